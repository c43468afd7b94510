"""Each catalogue control bound, as objects, to the step that enforces it and the verifier(s) that prove it.

The catalogue rows stay data; a stage module declares one :class:`Binding` per control of its stage and
:func:`checked` proves at import that the set is whole (every control bound exactly once, none unknown, a
control without a fix is verify-only or manual). The verify loop is built from the bindings and the row's
:class:`TargetKind` (:func:`planned`), so a result's control id comes from the binding, never typed again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

from securemode.catalogue import Control, Flag, Stage, TargetKind, controls_for
from securemode.engine import EnsureStep
from securemode.results import Result, probe

C = TypeVar("C")

# Flags whose controls' fix needs a person's approval first (design principle 5).
GATING_FLAGS = frozenset({Flag.LOCKOUT_RISK, Flag.IRREVERSIBLE})


@dataclass(frozen=True)
class Target:
    """One thing a control is checked on: its kind, the name the report shows, and the site object."""

    kind: TargetKind
    name: str
    subject: Any = None


@dataclass(frozen=True)
class Call:
    """The arguments a verifier takes after its control id and target name."""

    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


def call(*args: Any, **kwargs: Any) -> Call:
    return Call(args, kwargs)


def _no_arguments(_ctx: object, _target: Target) -> Call:
    return Call()


@dataclass(frozen=True)
class Proof(Generic[C]):
    """One verifier and how to call it for a target, given the stage's probe context ``C``.

    ``session`` names the shared connection the stage runs it on (one API session, one SNMP engine);
    proofs of one session run together, the sessions concurrently (:func:`run_sessions`).
    """

    verifier: Callable[..., Any]
    arguments: Callable[[C, Target], Call] = _no_arguments
    session: str = ""
    applies: Callable[[Target], bool] = lambda _target: True  # a proof for some targets of the kind only
    waits: bool = False  # it waits out timeouts (a negative probe): its session starts it before the others

    def start(self, ctx: C, control: str, target: Target) -> Any:
        """Call the verifier: a Result, or an awaitable of one for an asynchronous verifier."""
        how = self.arguments(ctx, target)
        return self.verifier(control, target.name, *how.args, **how.kwargs)

    def run(self, ctx: C, control: str, target: Target) -> Result:
        result = self.start(ctx, control, target)
        if not isinstance(result, Result):
            raise TypeError(f"{name_of(self.verifier)} is asynchronous: run it in its session")
        return result


@dataclass(frozen=True)
class Binding(Generic[C]):
    """A catalogue control, the ensure-step that enforces it (None: verify-only or manual), its proofs."""

    control: Control
    fix: EnsureStep | None
    verify: tuple[Proof[C], ...]


@dataclass(frozen=True)
class Planned(Generic[C]):
    """One control on one target: what the stage's verify will report."""

    binding: Binding[C]
    target: Target

    @property
    def pair(self) -> tuple[str, str]:
        return self.binding.control.id, self.target.name

    @property
    def proofs(self) -> list[Proof[C]]:
        return [proof for proof in self.binding.verify if proof.applies(self.target)]

    def run(self, ctx: C, combine: Callable[[Sequence[Result]], Result]) -> Result:
        results = [proof.run(ctx, self.binding.control.id, self.target) for proof in self.proofs]
        return results[0] if len(results) == 1 else combine(results)


@dataclass(frozen=True)
class Job(Generic[C]):
    """One proof of one planned control and target."""

    item: Planned[C]
    proof: Proof[C]

    def start(self, ctx: C) -> Any:
        return self.proof.start(ctx, self.item.binding.control.id, self.item.target)

    def run(self, ctx: C) -> Result:
        return self.proof.run(ctx, self.item.binding.control.id, self.item.target)


SessionRunner = Callable[[list[Job[C]]], list[Result]]


def waiting_first(jobs: Sequence[Job[C]]) -> list[int]:
    """The jobs' positions, those that wait out timeouts first (the order to start them in)."""
    return sorted(range(len(jobs)), key=lambda i: not jobs[i].proof.waits)


def each_at_once(ctx: C, jobs: list[Job[C]]) -> list[Result]:
    """The runner of a session whose proofs share nothing: every job at once, those that wait out
    timeouts started first."""
    from securemode.parallel import run_probes

    return run_probes([partial(job.run, ctx) for job in jobs], waiting=[job.proof.waits for job in jobs])


def run_sessions(
    plan: Sequence[Planned[C]],
    runners: Mapping[str, SessionRunner[C]],
    combine: Callable[[Sequence[Result]], Result],
    *,
    concurrent: bool = True,
    alongside: frozenset[str] = frozenset(),
) -> list[Result]:
    """Run every proof in its session (each runner returns one result per job, in order; the sessions
    run concurrently, or one after the other in the runners' order, except those named in ``alongside``,
    which share no limit with the others and run next to them), then give one result per planned
    control and target, its proofs combined."""
    from securemode.parallel import run_probes

    by_session: dict[str, list[tuple[tuple[int, int], Job[C]]]] = {}
    for i, item in enumerate(plan):
        for j, proof in enumerate(item.proofs):
            by_session.setdefault(proof.session, []).append(((i, j), Job(item, proof)))
    unknown = set(by_session) - set(runners)
    if unknown:
        raise BindingError(f"no runner for the session(s) {', '.join(sorted(unknown))}")
    names = [name for name in runners if name in by_session]
    if not concurrent:  # the ordered sessions first, then those that run alongside them
        names = [n for n in names if n not in alongside] + [n for n in names if n in alongside]
    sessions = [(name, by_session[name]) for name in names]
    calls = [partial(_in_order, runners[name], [job for _key, job in jobs]) for name, jobs in sessions]
    if concurrent:
        outputs = run_probes(calls)
    else:
        ordered = calls[:len([n for n in names if n not in alongside])]
        apart = calls[len(ordered):]
        outputs = run_probes([lambda: [r for one in ordered for r in one()], *apart]) if apart \
            else [r for one in calls for r in one()]
    keys = [key for _name, jobs in sessions for key, _job in jobs]
    found = dict(zip(keys, outputs, strict=True))
    out = []
    for i, item in enumerate(plan):
        results = [found[(i, j)] for j in range(len(item.proofs))]
        out.append(results[0] if len(results) == 1 else combine(results))
    return out


def _in_order(runner: SessionRunner[C], jobs: list[Job[C]]) -> list[Result]:
    results = runner(jobs)
    if len(results) != len(jobs):
        raise BindingError(f"a session runner gave {len(results)} results for {len(jobs)} proofs")
    return results


def from_batch(jobs: Sequence[Job[Any]], results: Iterable[Result], source: str) -> list[Result]:
    """Hand each job its result from a verifier that checks many controls at once (one read of a
    snapshot): ERROR for a job the batch did not answer, and an error for an answer no job asked for."""
    found = {(r.control, r.target): r for r in results}
    asked = {job.item.pair for job in jobs}
    extra = sorted(set(found) - asked)
    if extra:
        raise BindingError(f"{source} reported {extra}, which no binding planned")
    return [r if (r := found.get(job.item.pair)) is not None else missing(*job.item.pair, source) for job in jobs]


def missing(control: str, target: str, source: str) -> Result:
    with probe(control, target) as p:
        p.error(f"{source} gave no result for this control and target")
    return p.result


def could_not_check(jobs: Sequence[Job[Any]], why: str) -> list[Result]:
    """ERROR for every job of a session that could not open."""
    out = []
    for job in jobs:
        with probe(*job.item.pair) as p:
            p.error(why)
        out.append(p.result)
    return out


class BindingError(ValueError):
    """A stage's bindings do not cover its catalogue controls exactly, or a gate disagrees with the flags."""


def name_of(obj: object) -> str:
    """``module.qualname`` of a function or step (what `securemode controls` and the reports print)."""
    if isinstance(obj, EnsureStep):  # the step's own function (``plan`` once steps plan, else ``run``)
        obj = getattr(obj, "plan", None) or obj.run
    func = getattr(obj, "func", obj)  # functools.partial
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"


def fix_name(binding: Binding[Any]) -> str | None:
    return name_of(binding.fix) if binding.fix is not None else None


def verifier_names(binding: Binding[Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name_of(proof.verifier) for proof in binding.verify))


def needs_gate(step: EnsureStep, bindings: Iterable[Binding[Any]]) -> bool:
    """A step is gated when one of the controls it enforces can lock someone out or cannot be undone."""
    return any(b.fix is step and GATING_FLAGS & b.control.flags for b in bindings)


def checked(stage: Stage, steps: Sequence[EnsureStep], bindings: Sequence[Binding[C]]) -> tuple[Binding[C], ...]:
    """The bindings, after proving them whole for ``stage``; raises :class:`BindingError` otherwise."""
    problems: list[str] = []
    wanted = {c.id for c in controls_for([stage])}
    seen: dict[str, int] = {}
    for b in bindings:
        seen[b.control.id] = seen.get(b.control.id, 0) + 1
        if b.control.stage is not stage:
            problems.append(f"{b.control.id} belongs to stage {b.control.stage.value}, not {stage.value}")
        if b.fix is None and not {Flag.VERIFY_ONLY, Flag.MANUAL} & b.control.flags:
            problems.append(f"{b.control.id} has no fix and is neither verify-only nor manual")
        if b.fix is not None and b.fix not in steps:
            problems.append(f"{b.control.id} is fixed by {b.fix.name}, which is not a step of {stage.value}")
        if not b.verify:
            problems.append(f"{b.control.id} has no verifier")
    problems += [f"{cid} is bound {n} times" for cid, n in seen.items() if n > 1]
    problems += [f"{cid} is a catalogue control of {stage.value} with no binding" for cid in sorted(wanted - set(seen))]
    problems += [f"{cid} is not a catalogue control" for cid in sorted(set(seen) - wanted)]
    for step in steps:
        if needs_gate(step, bindings) and not step.gated:
            problems.append(f"step {step.name} enforces a lockout-risk or irreversible control but has no gate")
    if problems:
        raise BindingError(f"stage {stage.value}: " + "; ".join(problems))
    return tuple(bindings)


def planned(bindings: Iterable[Binding[C]], targets: Callable[[TargetKind], list[Target]]) -> list[Planned[C]]:
    """Every bound control on every target of its row's kind, in binding order."""
    return [Planned(b, t) for b in bindings for t in targets(b.control.target)]


def split_excepted(plan: Sequence[Planned[C]], excepted: Mapping[str, str]) -> tuple[list[Planned[C]], list[Result]]:
    """The planned controls to prove, and a NOT_APPLICABLE result (with its reason) for each planned
    control ``excepted`` names: a deployment the guide excepts from a control is not probed for it."""
    checks: list[Planned[C]] = []
    skipped: list[Result] = []
    for item in plan:
        reason = excepted.get(item.binding.control.id)
        if reason is None:
            checks.append(item)
            continue
        with probe(*item.pair) as p:
            p.not_applicable(reason)
        skipped.append(p.result)
    return checks, skipped
