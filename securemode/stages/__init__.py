"""Stage registry: each stage module exposes ``SPEC: StageSpec``; imported lazily (they pull in clients)."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager

from securemode.catalogue import Stage
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
            if stage in _OVERRIDES or importlib.util.find_spec(f"securemode.stages.{stage.value}")]


def load(stage: Stage) -> StageSpec:
    """The spec of ``stage``; raises LookupError when that stage is not built yet."""
    if stage in _OVERRIDES:
        return _OVERRIDES[stage]
    try:
        module = importlib.import_module(f"securemode.stages.{stage.value}")
    except ModuleNotFoundError as exc:
        if exc.name == f"securemode.stages.{stage.value}":
            raise LookupError(f"stage '{stage.value}' is not built yet") from None
        raise
    spec = module.SPEC
    if not isinstance(spec, StageSpec):
        raise TypeError(f"securemode.stages.{stage.value}.SPEC is not a StageSpec")
    return spec
