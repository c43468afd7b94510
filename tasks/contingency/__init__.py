"""Stage ``contingency``'s ensure-steps: refresh the fallback when its parity no longer stands, then power it off."""

from securemode.tasks.contingency.power import ensure_fallback_off
from securemode.tasks.contingency.refresh import ensure_fallback

__all__ = ["ensure_fallback", "ensure_fallback_off"]
