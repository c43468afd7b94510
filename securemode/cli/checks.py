"""Checks of command-line arguments, made before anything runs (an unknown id is bad input, not a no-op).

``--controls``, ``--approve`` and ``--attest`` name things the engine knows; a misspelt name would
otherwise check, approve or attest nothing while the run goes on. Output paths are checked up front
so a run never changes a host and then fails to write its report.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from securemode.catalogue import CONTROLS, Flag, Stage, controls_for
from securemode.problems import Problem, unknown_ids

__all__ = ["attestable_controls", "control_ids", "gated_steps", "output_dir", "unknown_ids"]

# Verifiers that may answer MANUAL (nothing outside the node can observe the setting), so a person
# may attest the controls they prove; with the MANUAL flag, these are the ids --attest accepts. Named as
# `securemode controls` names the bound objects (module.qualname).
MAY_NEED_ATTESTATION = frozenset({
    "securemode.verifiers.console.security_settings",
    "securemode.verifiers.web.session_limit",
    "securemode.verifiers.web.session_limit_per_user",
    "securemode.verifiers.vsphere.vm.bios_password_attestation",
})


def attestable_controls() -> list[str]:
    """Control ids a person may attest: MANUAL ones and those whose verifier may answer MANUAL."""
    from securemode.flows.stages import bound_names

    names = bound_names()
    return [c.id for c in CONTROLS
            if Flag.MANUAL in c.flags or MAY_NEED_ATTESTATION.intersection(names[c.id].verifiers)]


def gated_steps(stages: Iterable[Stage]) -> list[str]:
    """The approval names of the gated steps of ``stages`` (the names --approve accepts)."""
    from securemode.flows import stages as registry

    return [step.gated for stage in stages for step in registry.load(stage).steps if step.gated]


def control_ids(given: Sequence[str], stages: Sequence[Stage]) -> list[Problem]:
    """``--controls``: every id is a catalogue control of the stages that will run."""
    known = {c.id for c in CONTROLS}
    in_scope = {c.id for c in controls_for(list(stages))}
    problems = unknown_ids("--controls", given, [c.id for c in CONTROLS], "a control id of the catalogue")
    problems += [Problem(field="--controls", message=f"'{name}' is not a control of the stages that run",
                         fix="add its stage to --stage or leave the control out")
                 for name in dict.fromkeys(given) if name in known and name not in in_scope]
    return problems


def output_dir(option: str, path: Path) -> list[Problem]:
    """The directory can be created and written now (probed with a temporary file, then removed)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".securemode-write-check-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return [Problem(field=option, message=f"cannot write to {path} ({exc.strerror or type(exc).__name__})",
                        fix="give a directory you can write to")]
    return []
