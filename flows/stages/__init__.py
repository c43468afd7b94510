"""Stage registry: each stage module exposes ``SPEC: StageSpec``; imported lazily (they pull in clients)."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from securemode.binding import Binding, fix_name, verifier_names
from securemode.catalogue import CONTROLS, Stage
from securemode.engine import StageSpec

PIPELINE_ORDER: tuple[Stage, ...] = tuple(Stage)
_OVERRIDES: dict[Stage, StageSpec] = {}


@contextmanager
def substituted(specs: dict[Stage, StageSpec]) -> Iterator[None]:
    """Run with other specs for some stages (tests of the pipeline's own mechanics)."""
    saved = dict(_OVERRIDES)
    _OVERRIDES.update(specs)
    try:
        yield
    finally:
        _OVERRIDES.clear()
        _OVERRIDES.update(saved)


def available() -> list[Stage]:
    """Stages that are built, in pipeline order."""
    return [stage for stage in PIPELINE_ORDER
            if stage in _OVERRIDES or importlib.util.find_spec(f"securemode.flows.stages.{stage.value}")]


def load(stage: Stage) -> StageSpec:
    """The spec of ``stage``; raises LookupError when that stage is not built yet."""
    if stage in _OVERRIDES:
        return _OVERRIDES[stage]
    try:
        module = importlib.import_module(f"securemode.flows.stages.{stage.value}")
    except ModuleNotFoundError as exc:
        if exc.name == f"securemode.flows.stages.{stage.value}":
            raise LookupError(f"stage '{stage.value}' is not built yet") from None
        raise
    spec = module.SPEC
    if not isinstance(spec, StageSpec):
        raise TypeError(f"securemode.flows.stages.{stage.value}.SPEC is not a StageSpec")
    return spec


def bindings(stage: Stage) -> tuple[Binding[Any], ...]:
    """The bindings of a built stage (each control with its fix and proofs); LookupError when not built."""
    load(stage)
    module = importlib.import_module(f"securemode.flows.stages.{stage.value}")
    found: tuple[Binding[Any], ...] = module.BINDINGS
    return found


@dataclass(frozen=True)
class BoundNames:
    """What enforces and what proves a control, named from the bound objects (module.qualname)."""

    built: bool
    fix: str | None = None
    verifiers: tuple[str, ...] = ()


@cache
def bound_names() -> dict[str, BoundNames]:
    """Every catalogue control's fix and verifier names; controls of unbuilt stages say so."""
    names: dict[str, BoundNames] = {}
    for stage in PIPELINE_ORDER:
        try:
            found = bindings(stage)
        except LookupError:
            continue
        names.update({b.control.id: BoundNames(True, fix_name(b), verifier_names(b)) for b in found})
    return {c.id: names.get(c.id, BoundNames(built=False)) for c in CONTROLS}
