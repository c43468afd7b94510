"""Fault injection for reliability tests: 429 with Retry-After, 503, reset connections, added latency,
for a share of requests and/or for paths matching a regex. Off unless a test switches a rule on.

In-process: `node.faults.add(FaultRule(...))`. For a twin running as a process, write rules to
`<state_dir>/faults.json` (a list of FaultRule fields); the file is re-read when it changes.
"""

from __future__ import annotations

import json
import random
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

FaultKind = Literal["status", "reset", "latency"]


@dataclass
class FaultRule:
    kind: FaultKind
    status: int = 503
    retry_after: int | None = None
    delay_s: float = 0.0
    share: float = 1.0
    path_regex: str | None = None
    methods: tuple[str, ...] | None = None
    remaining: int | None = None  # stop firing after this many hits
    hits: int = field(default=0, compare=False)

    def applies(self, method: str, path: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.methods and method not in self.methods:
            return False
        return not (self.path_regex and not re.search(self.path_regex, path))


@dataclass(frozen=True)
class FaultDecision:
    delay_s: float = 0.0
    status: int | None = None
    retry_after: int | None = None
    reset: bool = False


def too_many_requests(retry_after: int = 1, **kw: Any) -> FaultRule:
    return FaultRule("status", status=429, retry_after=retry_after, **kw)


def unavailable(**kw: Any) -> FaultRule:
    return FaultRule("status", status=503, **kw)


def reset_connection(**kw: Any) -> FaultRule:
    return FaultRule("reset", **kw)


def latency(delay_s: float, **kw: Any) -> FaultRule:
    return FaultRule("latency", delay_s=delay_s, **kw)


class FaultInjector:
    def __init__(self, watch_file: Path | None = None, seed: int | None = None) -> None:
        self._rules: dict[int, FaultRule] = {}
        self._next = 1
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._watch = watch_file
        self._watch_mtime: float | None = None
        self._file_ids: list[int] = []

    def add(self, rule: FaultRule) -> int:
        with self._lock:
            rule_id = self._next
            self._next += 1
            self._rules[rule_id] = rule
            return rule_id

    def remove(self, rule_id: int) -> None:
        with self._lock:
            self._rules.pop(rule_id, None)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rule(self, rule_id: int) -> FaultRule | None:
        return self._rules.get(rule_id)

    def _reload(self) -> None:
        if self._watch is None:
            return
        try:
            mtime = self._watch.stat().st_mtime
        except OSError:
            mtime = None
        if mtime == self._watch_mtime:
            return
        self._watch_mtime = mtime
        for rule_id in self._file_ids:
            self._rules.pop(rule_id, None)
        self._file_ids = []
        if mtime is None:
            return
        try:
            data = json.loads(self._watch.read_text())
            rules = [FaultRule(**{**r, "methods": tuple(r["methods"]) if r.get("methods") else None}) for r in data]
        except (OSError, ValueError, TypeError):
            return
        for rule in rules:
            self._rules[self._next] = rule
            self._file_ids.append(self._next)
            self._next += 1

    def decide(self, method: str, path: str) -> FaultDecision:
        with self._lock:
            self._reload()
            delay = 0.0
            for rule in self._rules.values():
                if not rule.applies(method, path) or self._rng.random() >= rule.share:
                    continue
                rule.hits += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
                if rule.kind == "latency":
                    delay += rule.delay_s
                elif rule.kind == "reset":
                    return FaultDecision(delay, reset=True)
                else:
                    return FaultDecision(delay, rule.status, rule.retry_after)
            return FaultDecision(delay)

    @staticmethod
    def dump(rules: list[FaultRule]) -> str:
        """JSON for the watch file of a twin running as a process."""
        return json.dumps([{k: v for k, v in asdict(r).items() if k != "hits"} for r in rules])
