"""Lab profiles: in what state the lab's Pexip deployment starts.

* ``bootstrapped`` (the default): the deployment exists. The ESXi host has the site's VM network and
  one powered-on VM per node; the Management Node was installed with the site's answers (the
  installation wizard ran, the console password is set); the site's conferencing nodes are
  registered as ``worker_vm`` objects and their agents run from the start.
* ``bare``: a fresh ESXi host (vSwitch0 with its management and stock VM port groups on vmnic0,
  vmnic1 free, no VMs) and nothing of Pexip running. The Management Node's OVA waits in the lab's
  image folder (the site file names it). A node's processes run only while a VM named after it is
  powered on in vcsim (:mod:`securemode.infra.lab.power_watcher`): the Management Node boots to its
  console's installation wizard, and serves HTTPS once the wizard's answers are applied.

Either profile with ``lab up --contingency`` also plans a fallback deployment (``<node>-c``) whose nodes are
power-driven like the bare profile's (:mod:`securemode.infra.lab.power_part`); the primary stays as its
profile has it.
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

    @property
    def power_driven(self) -> bool:
        """Whether the nodes' processes follow their VMs' power state (else they all start with ``up``)."""
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

    @property
    def power_driven(self) -> bool:
        return False


class Bare:
    @property
    def name(self) -> str:
        return "bare"

    def vcsim_vms(self, plan: LabPlan) -> int:
        return 0

    def prepare_vsphere(self, sim: Vcsim, plan: LabPlan) -> None:
        return None  # the host as installed: the engine's host stage makes the VM network

    def register_nodes(self, plan: LabPlan, register: Callable[[], Sequence[str]]) -> Sequence[str]:
        return ()  # the engine creates the worker_vm objects

    def agents_at_boot(self, plan: LabPlan) -> Sequence[NodePlan]:
        return ()

    @property
    def power_driven(self) -> bool:
        return True


PROFILES: dict[str, Profile] = {"bootstrapped": Bootstrapped(), "bare": Bare()}
DEFAULT_PROFILE = "bootstrapped"
