"""The control catalogue: every requirement of the guide plus the ESXi STIG subset, in one place."""

from __future__ import annotations

from securemode.catalogue import auth, bootstrap, contingency, host, nodes, pki, platform, vms
from securemode.catalogue.mappings import mapped
from securemode.catalogue.model import Control, ControlSeverity, Flag, Stage, StigRule, TargetKind

CONTROLS: tuple[Control, ...] = tuple(mapped(c) for c in (
    *host.CONTROLS,
    *vms.CONTROLS,
    *bootstrap.CONTROLS,
    *nodes.CONTROLS,
    *pki.CONTROLS,
    *platform.CONTROLS,
    *auth.CONTROLS,
    *contingency.CONTROLS,
))
BY_ID: dict[str, Control] = {control.id: control for control in CONTROLS}


def controls_for(stages: list[Stage] | None = None) -> list[Control]:
    """Controls of the given stages (all when None), in pipeline order."""
    if stages is None:
        return list(CONTROLS)
    wanted = set(stages)
    return [c for c in CONTROLS if c.stage in wanted]


__all__ = ["BY_ID", "CONTROLS", "Control", "ControlSeverity", "Flag", "Stage", "StigRule", "TargetKind", "controls_for"]
