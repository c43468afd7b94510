"""The `nodes` stage's catalogue rows, named once for the steps that change what they cover."""

from __future__ import annotations

REGISTERED = "nodes.registered"
DEPLOYED = "nodes.vm-deployed"
VLAN = "nodes.vlan"
RESERVED = "nodes.reserved"
IOPS_BUDGET = "nodes.disk.iops-budget"
FORCE_SETUP = "nodes.bios.force-setup"
BOOT_ORDER = "nodes.bios.boot-order"
PASSWORD = "nodes.bios.supervisor-password"
