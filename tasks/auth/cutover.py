"""The cut-over (guide: Enable certificate-based authentication, then Disable local authentication): two
gated switches, each proven before and after, each undone if its proof fails.

For each switch, in this order: a session opened and authenticated under the settings before it; the
proofs that must hold before it (else it is refused, nothing written); the approval; the switch, written
through that session; the proofs on fresh sessions; and, if they fail or run past :data:`DEADLINE_S`, the
switch undone through the session opened before it (which the node still serves: it was authenticated
under the old settings), then a fresh login to show the undo worked. The report carries the switch and
its rollback as changes and the cause as a note, and the row's verifier names the cause (recorded with
the rollback); only an undo that cannot be made raises :class:`SwitchRolledBack`. A switch that holds is
recorded (:mod:`securemode.pexip.admin_credential`): from then on the engine's own client logs in with
its client certificate.

The proofs are given by the caller (the stage binds verifiers; this layer cannot import them): each is a
callable returning :class:`~securemode.results.Result` objects, and anything but PASS is a failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

from securemode.engine import Change, EngineContext, Planned, StepPlan, plan_of
from securemode.pexip import admin_credential
from securemode.pexip.client import ManagementApi
from securemode.pexip.connect import management_api
from securemode.results import Result, Status
from securemode.site import Administrator, Role
from securemode.site_loader import LoadedSite
from securemode.targets import PLATFORM_TARGET
from securemode.tasks.auth.client_certificates import credential
from securemode.tasks.auth.connection import AUTHENTICATION, LDAP_AND_LOCAL, LDAP_ONLY
from securemode.tasks.auth.fallback import excepted_on_fallback

DEADLINE_S = 20.0
"""How long the proofs after a switch may take before it is undone: below the node's idle timeout of
the session opened before the switch (the lab's is 30 s), so the undo still has that session."""
CERTIFICATE_CONTROL = "auth.client-certificate"
LDAP_ONLY_CONTROL = "auth.source.ldap-only"

Proofs = Callable[[LoadedSite], Sequence[Result]]


class SwitchRolledBack(RuntimeError):
    """A switch whose proof failed was undone (or could not be: the message says which)."""


@dataclass(frozen=True)
class Switch:
    """One switch of the cut-over: what it writes, how it is undone, and what proves it."""

    control: str
    setting: str
    write: dict[str, Any]
    undo: dict[str, Any]
    before: Proofs
    after: Proofs
    undone: Proofs  # a fresh login that shows the undo worked


def engine_administrator(loaded: LoadedSite) -> Administrator | None:
    """The administrator whose client certificate the engine uses: the first Read-write one."""
    return next((a for a in loaded.site.administrators if a.role is Role.READ_WRITE), None)


def failures(results: Sequence[Result]) -> list[str]:
    return [f"{r.control}: {r.status.value} {r.message}" for r in results if r.status is not Status.PASS]


def switch_and_prove(
    loaded: LoadedSite, before: ManagementApi, switch: Switch, on_success: Callable[[], None]
) -> StepPlan | None:
    """Write the switch through ``before``; prove it on fresh sessions; undo it through ``before`` if not.

    An undone switch comes back as a plan of what was done (the rollback, as a change already made) with
    the cause as its note, and is recorded so the row's verifier names it; an undo that fails raises."""
    before.patch(AUTHENTICATION, switch.write)
    started = time.monotonic()
    try:
        failed = failures(switch.after(loaded))
    except Exception as exc:  # a proof that cannot run is a failed proof: undo
        failed = [f"the proof could not run: {type(exc).__name__}: {exc}"]
    late = time.monotonic() - started > DEADLINE_S
    if not failed and not late:
        admin_credential.forget_rollback(loaded, switch.control)
        on_success()
        return None
    cause = "; ".join(failed) or f"the proofs took longer than {DEADLINE_S:g} s"
    try:
        before.patch(AUTHENTICATION, switch.undo)
    except Exception as exc:
        raise SwitchRolledBack(
            f"{switch.setting} → {switch.write} did not hold ({cause}) and could NOT be undone "
            f"through the session opened before it: {exc}"
        ) from None
    try:
        now = before.get(AUTHENTICATION)
        kept = {k: now.get(k) for k in switch.undo}
        session = f"that session reads {kept}" if kept == switch.undo else f"yet that session reads {kept}"
    except Exception as exc:
        session = f"yet that session can no longer read the settings: {exc}"
    check = failures(switch.undone(loaded))
    fresh = "a fresh login works again" if not check else f"a fresh login still fails: {'; '.join(check)}"
    message = (
        f"rolled back: {switch.setting} → {switch.write} did not hold ({cause}); undone to {switch.undo} "
        f"through the session opened before the switch: {session}; {fresh}"
    )
    admin_credential.record_rollback(loaded, switch.control, message)
    rollback = Change(
        control=switch.control,
        target=PLATFORM_TARGET,
        setting=f"{switch.setting} (rollback)",
        current=next(iter(switch.write.values())),
        desired=next(iter(switch.undo.values())),
    )
    return plan_of(Planned(action=_already_done, changes=(rollback,)), notes=[message])


def _already_done() -> None:
    """The rollback's action: it was made through the session opened before the switch."""


def _switch_change(switch: Switch, current: Any, wanted: Any) -> Change:
    return Change(
        control=switch.control, target=PLATFORM_TARGET, setting=switch.setting, current=current, desired=wanted
    )


def plan_switch(
    ctx: EngineContext, resources: ExitStack, switch: Switch, current: Any, wanted: Any, on_success: Callable[[], None]
) -> StepPlan:
    """Refused unless the before-proofs hold; else one gated action that switches, proves, or undoes.

    A plan (nothing applied) runs no proofs: it logs in as nobody, and what the earlier steps of the same
    run would set up (the LDAP connection, the roles, the certificates) is not there yet; it says the
    switch would be made once its proofs hold.
    """
    if not ctx.apply:
        return plan_of(
            Planned(action=_already_done, changes=(_switch_change(switch, current, wanted),)),
            notes=[f"{switch.setting} is switched only once the proofs before it hold"],
        )
    before = resources.enter_context(management_api(ctx.site))
    before.get(AUTHENTICATION)  # open and authenticate this session first, under the settings before the switch
    failed = failures(switch.before(ctx.site))
    if failed:
        return plan_of(
            blocked=f"not switching {switch.setting} to {wanted}: the proofs before it failed: {'; '.join(failed)}"
        )
    return plan_of(
        Planned(
            action=partial(switch_and_prove, ctx.site, before, switch, on_success),
            changes=(_switch_change(switch, current, wanted),),
        ),
        summary=f"switch {switch.setting} from {current} to {wanted}, proven on fresh "
        f"sessions and undone within {DEADLINE_S:g} s if the proof fails",
    )


def ensure_client_certificate_required(
    before: Proofs, after: Proofs, undone: Proofs, ctx: EngineContext, resources: ExitStack
) -> StepPlan:
    loaded = ctx.site
    if (excepted := excepted_on_fallback(ctx, CERTIFICATE_CONTROL)) is not None:
        return excepted
    mode = loaded.site.client_certificate.value
    engine = engine_administrator(loaded)
    if engine is None:
        return plan_of(blocked="the site names no Read-write administrator, whose certificate the engine would use")
    cred = credential(loaded, engine.username)

    def succeeded() -> None:
        admin_credential.record(
            loaded,
            client_certificate=mode,
            engine_certificate=str(cred.certificate),
            engine_key=str(cred.key),
            engine_user=engine.username,
        )

    with management_api(loaded) as api:
        current = api.get(AUTHENTICATION).get("client_certificate")
    if current == mode:
        if ctx.apply and admin_credential.recorded(loaded).get("client_certificate") != mode:
            succeeded()  # switched by an earlier run whose record was lost: the certificate still logs in
        return plan_of()
    switch = Switch(
        CERTIFICATE_CONTROL,
        "authentication.client_certificate",
        {"client_certificate": mode},
        {"client_certificate": current or "NO"},
        before,
        after,
        undone,
    )
    return plan_switch(ctx, resources, switch, current, mode, succeeded)


def ensure_ldap_only(
    before: Proofs, after: Proofs, undone: Proofs, ctx: EngineContext, resources: ExitStack
) -> StepPlan:
    loaded = ctx.site
    if (excepted := excepted_on_fallback(ctx, LDAP_ONLY_CONTROL)) is not None:
        return excepted
    with management_api(loaded) as api:
        current = api.get(AUTHENTICATION)
    if current.get("source") == LDAP_ONLY:
        return plan_of()
    if current.get("client_certificate") in (None, "NO") and ctx.apply:
        return plan_of(blocked="local authentication stays until client certificates are required and proven")
    switch = Switch(
        LDAP_ONLY_CONTROL,
        "authentication.source",
        {"source": LDAP_ONLY},
        {"source": LDAP_AND_LOCAL},
        before,
        after,
        undone,
    )
    return plan_switch(
        ctx,
        resources,
        switch,
        current.get("source"),
        LDAP_ONLY,
        lambda: admin_credential.record(loaded, source=LDAP_ONLY),
    )
