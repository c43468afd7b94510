"""The approval names of the gated steps: the words ``approvals.preapproved`` and ``--approve`` take.

A gated step runs only with an approval under its name (design principle 5). The names live here, in
the catalogue, so a site file is checked without loading a stage; a test holds the built stages'
gated steps to this table, so the two cannot drift apart.
"""

from __future__ import annotations

from securemode.catalogue.model import Stage

GATES: dict[str, Stage] = {
    "host.lockdown": Stage.HOST,
    "bootstrap.pin-console-host-key": Stage.BOOTSTRAP,
    "bootstrap.pin-web-certificate": Stage.BOOTSTRAP,
    "bootstrap.securitywizard": Stage.BOOTSTRAP,
    "auth.require-client-certificate": Stage.AUTH,
    "auth.ldap-only": Stage.AUTH,
}
