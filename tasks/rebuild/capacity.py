"""Whether the host can take a rebuild: the quarantined VMs stay on it as evidence (with their disks' IOPS limits),
and fresh VMs join them, so the guide's sum of every VM's IOPS limits must still fit the datastore's budget.

Read only, and asked before the quarantine changes anything: a rebuild the vms stage would refuse half-way is
refused up front, naming the budget and the fix.
"""

from __future__ import annotations

from securemode.problems import Problem
from securemode.site_loader import LoadedSite
from securemode.tasks.vms.budget import actual_sum
from securemode.vsphere import open_site_session
from securemode.vsphere.desired_vm import disks, view_vm
from securemode.vsphere.inventory import find_host


def capacity_problems(loaded: LoadedSite, vms: list[str]) -> list[Problem]:
    """A problem when the host's VMs plus a fresh copy of each rebuilt VM exceed ``vsphere.iops_budget``."""
    site = loaded.site
    limits = {node.name: node.vm.disk_iops_limit for node in site.nodes()}
    with open_site_session(loaded) as session:
        host = find_host(session.content, site.vsphere.esxi_host)
        views = [view_vm(v) for v in host.vm]
        now = actual_sum(views)
        fresh = {f"{v.name} (new)": len(disks(v)) * limits[v.name] for v in views if v.name in vms}
    total = now.total + sum(fresh.values())
    if now.unlimited or total <= site.vsphere.iops_budget:
        return []  # an unlimited disk is the vms stage's own finding
    return [
        Problem(
            field="vsphere.iops_budget",
            message=f"after the rebuild the host's disk IOPS limits would add up to {total} (the VMs there "
            f"now {now.total}, their fresh copies {sum(fresh.values())}: the quarantined VMs stay as "
            f"evidence), above the budget of {site.vsphere.iops_budget}",
            fix="move earlier quarantined VMs off this host, or set vsphere.iops_budget to the datastore's "
            "real capacity",
        )
    ]
