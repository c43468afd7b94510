"""On the contingency deployment the guide excepts the client-certificate and LDAP-only steps."""

from __future__ import annotations

from securemode.engine import EngineContext, StepPlan, plan_of
from securemode.fallback_site import EXCEPTED_CONTROLS


def excepted_on_fallback(ctx: EngineContext, control: str) -> StepPlan | None:
    """Nothing to do, and why, when ``ctx`` is a contingency deployment excepted from ``control``; else None."""
    if not ctx.site.is_fallback:
        return None
    return plan_of(notes=[f"{control}: not set on the contingency deployment, {EXCEPTED_CONTROLS[control]}"])
