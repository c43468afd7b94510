"""Guide: Contingency deployment — a mirror with stated exceptions, kept powered off."""

from __future__ import annotations

from securemode.catalogue.model import Control, ControlSeverity, Flag, Stage, TargetKind

SECTION = "Contingency deployment"

CONTROLS: tuple[Control, ...] = (
    Control(id="contingency.parity", title="Fallback mirrors the primary except the allowed exceptions",
            stage=Stage.CONTINGENCY, section=SECTION, guide_text="This fallback system should mimic the primary "
            "installation", target=TargetKind.CONTINGENCY, desired="diff ⊆ {auth source, client cert, licence}"),
    Control(id="contingency.auth.ldap-and-local", title="Fallback authenticates with LDAP and local",
            stage=Stage.CONTINGENCY, section=SECTION, guide_text="Set Authentication source to LDAP database and "
            "local database", target=TargetKind.CONTINGENCY, desired="LDAP+LOCAL", setting="authentication.source"),
    Control(id="contingency.auth.no-client-cert", title="Fallback does not require client certificates",
            stage=Stage.CONTINGENCY, section=SECTION, guide_text="Set Require client certificate to Not required",
            target=TargetKind.CONTINGENCY, desired="NO", setting="authentication.client_certificate"),
    Control(id="contingency.no-licence", title="Fallback deployed without licensing", stage=Stage.CONTINGENCY,
            section=SECTION, guide_text="It should be deployed without licensing", target=TargetKind.CONTINGENCY,
            desired="no licence", setting="licence"),
    Control(id="contingency.powered-off", title="Every fallback VM powered off", stage=Stage.CONTINGENCY,
            section=SECTION, guide_text="all VMs should be completely powered off and remain off until required",
            target=TargetKind.FALLBACK_VM, desired="poweredOff", severity=ControlSeverity.HIGH),
    Control(id="contingency.licence-transfer", title="Licence transfer to the fallback recorded",
            stage=Stage.CONTINGENCY,
            section=SECTION, guide_text="contact your Pexip authorized support representative to return the original "
            "license key", target=TargetKind.CONTINGENCY, desired="attested by a person",
            flags=frozenset({Flag.MANUAL})),
)
