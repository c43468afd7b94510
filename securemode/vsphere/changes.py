"""Helpers of the vSphere planners: a not-yet-applied Change, and the CLI's lines for a list of them.

A vSphere ensure-step reads facts, builds :class:`~securemode.engine.Planned` items (pure), and the
engine's one applier (:func:`securemode.engine.apply_plan`) runs them only when the context applies.
"""

from __future__ import annotations

from collections.abc import Iterable

from securemode.engine import Change, Planned
from securemode.results import JsonValue

__all__ = ["Planned", "change", "render_changes"]


def change(control: str, target: str, setting: str, current: JsonValue, desired: JsonValue) -> Change:
    """A not-yet-applied Change."""
    return Change(control=control, target=target, setting=setting, current=current, desired=desired)


def render_changes(changes: Iterable[Change]) -> list[str]:
    """CLI lines: one per change, ``control [target] setting: current → desired (changed|would change)``."""
    return [c.render() for c in sorted(changes, key=lambda c: (c.control, c.target, c.setting))]
