"""Stage registry: each stage module exposes ``SPEC: StageSpec``; imported lazily (they pull in clients)."""

from __future__ import annotations

import importlib

from securemode.catalogue import Stage
from securemode.engine import StageSpec

PIPELINE_ORDER: tuple[Stage, ...] = tuple(Stage)


def available() -> list[Stage]:
    """Stages whose module exists, in pipeline order."""
    return [stage for stage in PIPELINE_ORDER if importlib.util.find_spec(f"securemode.stages.{stage.value}")]


def load(stage: Stage) -> StageSpec:
    """The spec of ``stage``; raises LookupError when that stage is not built yet."""
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
