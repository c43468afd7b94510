"""Guide: Pexip Infinity Conferencing Node deployment (manual ESXi deployment)."""

from __future__ import annotations

from securemode.catalogue.model import Control, ControlSeverity, Flag, Stage, TargetKind

SECTION = "Pexip Infinity Conferencing Node deployment"

CONTROLS: tuple[Control, ...] = (
    Control(id="nodes.after-management", title="Management Node bootstrapped before any Conferencing Node",
            stage=Stage.NODES, section=SECTION, guide_text="Before deploying any Conferencing Nodes, you must complete "
            "the Management Node deployment and bootstrap configuration", target=TargetKind.PLATFORM,
            desired="bootstrap stage compliant", flags=frozenset({Flag.VERIFY_ONLY})),
    Control(id="nodes.registered", title="Conferencing Node defined on the Management Node for manual deployment",
            stage=Stage.NODES, section=SECTION, guide_text="All Conferencing Nodes should be deployed manually",
            target=TargetKind.CONFERENCING_NODE, desired="worker_vm exists, manual ESXi deployment",
            setting="worker_vm"),
    Control(id="nodes.vm-deployed", title="Conferencing Node VM deployed from its node-specific OVA",
            stage=Stage.NODES, section=SECTION, guide_text="Manually deploying a Conferencing Node on an ESXi host",
            target=TargetKind.VM, desired="VM exists on the site datastore"),
    Control(id="nodes.vlan", title="Conferencing Node VLAN is not 4095 and not reserved", stage=Stage.NODES,
            section=SECTION, guide_text="The VLAN ID used for the Conferencing Node must not conflict with existing "
            "reserved VLAN IDs and must not use VLAN ID 4095", target=TargetKind.VM,
            desired="site:conferencing_nodes[].vlan", severity=ControlSeverity.HIGH),
    Control(id="nodes.reserved", title="Conferencing Node VM reserved like the Management Node (CPU, memory, disk)",
            stage=Stage.NODES, section="Reserving virtual machine resources",
            guide_text="The resources allocated to each virtual machine must be reserved after it has been deployed",
            target=TargetKind.VM, desired="as vms.cpu.*, vms.memory.*, vms.disk.*"),
    Control(id="nodes.answers", title="Conferencing Node answers on its address", stage=Stage.NODES, section=SECTION,
            target=TargetKind.CONFERENCING_NODE, desired="HTTPS handshake on the node address",
            flags=frozenset({Flag.VERIFY_ONLY})),
)
