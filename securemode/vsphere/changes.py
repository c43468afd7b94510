"""Planned changes: what an ensure-step would change and the action that changes it, applied in order.

An ensure-step reads state, builds a list of :class:`Planned` (pure), then :func:`carry_out` runs
the actions only when the context applies; ``plan`` gets the very same Changes with ``applied=False``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from securemode.engine import Change
from securemode.results import JsonValue

Action = Callable[[], object]


@dataclass(frozen=True)
class Planned:
    """One action and the settings it changes (one call may change several, e.g. a vSwitch's policy)."""

    action: Action
    changes: tuple[Change, ...] = field(default_factory=tuple)


def change(control: str, target: str, setting: str, current: JsonValue, desired: JsonValue) -> Change:
    """A not-yet-applied Change."""
    return Change(control=control, target=target, setting=setting, current=current, desired=desired)


def carry_out(planned: Iterable[Planned], apply: bool) -> list[Change]:
    """Run each action in order when ``apply``; return every Change, marked applied when it was."""
    done: list[Change] = []
    for item in planned:
        if apply:
            item.action()
        done += [c.model_copy(update={"applied": apply}) for c in item.changes]
    return done


def render_changes(changes: Iterable[Change]) -> list[str]:
    """CLI lines: one per change, ``control [target] setting: current → desired (changed|would change)``."""
    return [c.render() for c in sorted(changes, key=lambda c: (c.control, c.target, c.setting))]
