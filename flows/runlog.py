"""One Prefect log line per change, verdict and approval, written by the task or flow that made it.

Every line passes through :func:`redact`; FAIL and ERROR verdicts are warnings so the UI's
"Warning and above" filter shows exactly what does not hold.
"""

from __future__ import annotations

import json
import logging

from prefect.logging import get_run_logger

from securemode.engine import Change
from securemode.redact import redact
from securemode.reports.model import Approval
from securemode.results import Attestation, Result, Status

BAD = {Status.FAIL, Status.ERROR}


def _short(value: object, limit: int = 200) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def log_changes(changes: list[Change]) -> None:
    logger = get_run_logger()
    for change in changes:
        logger.info(redact(change.render()))


def log_verdicts(results: list[Result]) -> None:
    logger = get_run_logger()
    for r in results:
        line = f"{r.status.value} {r.control} [{r.target}] expected {_short(r.expected)}, observed {_short(r.observed)}"
        if r.message and r.status is not Status.PASS:
            line += f": {r.message}"
        logger.log(logging.WARNING if r.status in BAD else logging.INFO, redact(line))


def log_approval(approval: Approval) -> None:
    note = f" ({approval.note})" if approval.note else ""
    get_run_logger().info(redact(f"approved {approval.step} by {approval.who}{note}"))


def log_not_approved(step: str, summary: str) -> None:
    get_run_logger().warning(redact(f"{step}: not approved; not applied: {'; '.join(summary.splitlines())}"))


def log_attestation(attestation: Attestation) -> None:
    get_run_logger().info(redact(f"attested {attestation.control} on {attestation.target} by {attestation.who}"))
