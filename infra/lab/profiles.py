"""Lab profiles: in what state the lab's Pexip deployment starts.

* ``bootstrapped`` (the default): the deployment exists. The ESXi host has the site's VM network and
  one powered-on VM per node; the Management Node was installed with the site's answers (the
  installation wizard ran, the console password is set); the site's conferencing nodes are
  registered as ``worker_vm`` objects and their agents run from the start.
* ``bare`` (not offered yet): an ESXi host with no VMs and a Management Node state that the engine's
  deployment creates; node agents come to life only when their VM is powered on in vcsim. The seam is
  :class:`Profile`: ``bare`` needs ``vcsim_vms() == 0``, no preparation, no registration, an empty
  ``agents_at_boot`` and a power-state watcher that starts/stops node agents (not written yet).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from securemode.infra.lab.plan import LabPlan, NodePlan
from securemode.infra.lab.vsphere_part import bootstrap_deployed
from securemode.infra.vcsim import Vcsim


class Profile(Protocol):
    """What differs between profiles; everything else about ``lab up`` is shared."""

    @property
    def name(self) -> str: ...

    def vcsim_vms(self, plan: LabPlan) -> int:
        """How many VMs the simulator starts with."""
        ...

    def prepare_vsphere(self, sim: Vcsim, plan: LabPlan) -> None:
        """Bring the host to the profile's starting point."""
        ...

    def register_nodes(self, plan: LabPlan, register: Callable[[], Sequence[str]]) -> Sequence[str]:
        """Register the conferencing nodes on the Management Node (or not); returns their URIs."""
        ...

    def agents_at_boot(self, plan: LabPlan) -> Sequence[NodePlan]:
        """The nodes whose agents ``lab up`` starts right away."""
        ...


class Bootstrapped:
    @property
    def name(self) -> str:
        return "bootstrapped"

    def vcsim_vms(self, plan: LabPlan) -> int:
        return len(plan.nodes)

    def prepare_vsphere(self, sim: Vcsim, plan: LabPlan) -> None:
        bootstrap_deployed(sim, [n.name for n in plan.nodes])

    def register_nodes(self, plan: LabPlan, register: Callable[[], Sequence[str]]) -> Sequence[str]:
        return register()

    def agents_at_boot(self, plan: LabPlan) -> Sequence[NodePlan]:
        return plan.nodes


PROFILES: dict[str, Profile] = {"bootstrapped": Bootstrapped()}
DEFAULT_PROFILE = "bootstrapped"
