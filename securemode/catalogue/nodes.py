"""Guide: Pexip Infinity Conferencing Node deployment (manual ESXi deployment).

A Conferencing Node's VM is checked under the node's name (the VM carries it), so its VM rows target the
conferencing nodes; they are hardened like the Management Node's VM (Reserving virtual machine resources,
BIOS configuration).
"""

from __future__ import annotations

from securemode.catalogue.model import Control, ControlSeverity, Flag, Stage, TargetKind

SECTION = "Pexip Infinity Conferencing Node deployment"
WIZARD_SECTION = "Pexip Infinity Management Node deployment and bootstrap configuration"  # the security wizard
RES = "Reserving virtual machine resources"
BIOS = "BIOS configuration"

CONTROLS: tuple[Control, ...] = (
    Control(id="nodes.after-management", title="Management Node bootstrapped before any Conferencing Node",
            stage=Stage.NODES, section=SECTION, guide_text="Before deploying any Conferencing Nodes, you must complete "
            "the Management Node deployment and bootstrap configuration", target=TargetKind.PLATFORM,
            desired="bootstrap stage compliant", flags=frozenset({Flag.VERIFY_ONLY})),
    Control(id="nodes.registered", title="Conferencing Node defined on the Management Node for manual deployment",
            stage=Stage.NODES, section=SECTION, guide_text="All Conferencing Nodes should be deployed manually",
            target=TargetKind.CONFERENCING_NODE,
            desired="worker_vm with the site's name, address, host name and domain; a manual deployment type",
            setting="worker_vm"),
    Control(id="nodes.vm-deployed", title="Conferencing Node VM deployed from its node-specific OVA",
            stage=Stage.NODES, section=SECTION, guide_text="Manually deploying a Conferencing Node on an ESXi host",
            target=TargetKind.CONFERENCING_NODE, desired="VM exists on the site datastore, sized per the site"),
    Control(id="nodes.vlan", title="Conferencing Node VLAN is not 4095 and not reserved", stage=Stage.NODES,
            section=SECTION, guide_text="The VLAN ID used for the Conferencing Node must not conflict with existing "
            "reserved VLAN IDs and must not use VLAN ID 4095", target=TargetKind.CONFERENCING_NODE,
            desired="site:conferencing_nodes[].vlan", severity=ControlSeverity.HIGH),
    Control(id="nodes.reserved", title="Conferencing Node VM reserved like the Management Node (CPU, memory, disk)",
            stage=Stage.NODES, section=RES,
            guide_text="The resources allocated to each virtual machine must be reserved after it has been deployed",
            target=TargetKind.CONFERENCING_NODE, desired="as vms.cpu.*, vms.memory.*, vms.disk.*"),
    Control(id="nodes.disk.iops-budget", title="Sum of IOPS limits on the host within the datastore budget, every "
            "node counted", stage=Stage.NODES, section=RES, guide_text="The sum of all IOP limits for all VMs on the "
            "same host must not exceed the capacity of the datastore", target=TargetKind.ESXI_HOST,
            desired="site:vsphere.iops_budget", setting="Σ disk.storageIOAllocation.limit",
            severity=ControlSeverity.HIGH),
    Control(id="nodes.bios.force-setup", title="Conferencing Node VM: force BIOS setup on the next boot",
            stage=Stage.NODES, section=BIOS, guide_text="Force BIOS setup", target=TargetKind.CONFERENCING_NODE,
            desired="true (until the BIOS work is attested)", setting="config.bootOptions.enterBIOSSetup"),
    Control(id="nodes.bios.boot-order", title="Conferencing Node VM boots from the hard drive, SCSI (0:0) first",
            stage=Stage.NODES, section=BIOS, guide_text="VMware Virtual SCSI Hard Drive (0:0) is the first entry",
            target=TargetKind.CONFERENCING_NODE, desired="disk SCSI(0:0) first",
            setting="config.bootOptions.bootOrder"),
    Control(id="nodes.bios.supervisor-password", title="Conferencing Node VM: BIOS supervisor password set",
            stage=Stage.NODES, section=BIOS, guide_text="Configure a Supervisor password",
            target=TargetKind.CONFERENCING_NODE, desired="attested by a person", setting="BIOS Security page",
            flags=frozenset({Flag.MANUAL})),
    Control(id="nodes.answers", title="Conferencing Node answers HTTPS on its address with the platform's TLS posture",
            stage=Stage.NODES, section=SECTION, target=TargetKind.CONFERENCING_NODE,
            desired="TLS 1.2 handshake on the node address completes; TLS 1.0 refused",
            flags=frozenset({Flag.VERIFY_ONLY})),
    Control(id="nodes.sip-ports", title="Conferencing Node answers SIP on the security wizard's ports",
            stage=Stage.NODES, section=SECTION, guide_text="SIP TLS listen port",
            target=TargetKind.CONFERENCING_NODE,
            desired="SIP OPTIONS answered on site:security_wizard.sip_udp_port, sip_tcp_port, sip_tls_port",
            flags=frozenset({Flag.VERIFY_ONLY})),
    Control(id="nodes.deployed-status", title="Conferencing Node DEPLOYED and SYNCED on the Management Node",
            stage=Stage.NODES, section=SECTION, target=TargetKind.CONFERENCING_NODE,
            desired="status/v1/worker_vm: deploy_status DEPLOYED, sync_status SYNCED, last_updated recent"),
    Control(id="nodes.ports-allowed-only", title="Only the allowed ports answer on the Conferencing Node; the others "
            "are dropped", stage=Stage.NODES, section=WIZARD_SECTION,
            guide_text="Drop incoming packets to closed ports rather than reject", target=TargetKind.CONFERENCING_NODE,
            desired="HTTPS and the wizard's SIP ports answer; common service ports silent (dropped, not rejected)",
            severity=ControlSeverity.HIGH, flags=frozenset({Flag.VERIFY_ONLY})),
)
