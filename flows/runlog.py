"""One Prefect log line per change, verdict and approval, written by the task or flow that made it.

Every line passes through :func:`redact`; FAIL and ERROR verdicts are warnings of their own so the UI's
"Warning and above" filter shows exactly what does not hold. The verdicts that hold go out as one
record of one line each: at 20 nodes a stage has hundreds, and a record apiece cost the engine more
CPU than its probes.
"""

from __future__ import annotations

import json

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


def verdict_line(r: Result) -> str:
    line = f"{r.status.value} {r.control} [{r.target}] expected {_short(r.expected)}, observed {_short(r.observed)}"
    return line + f": {r.message}" if r.message and r.status is not Status.PASS else line


def log_verdicts(results: list[Result]) -> None:
    logger = get_run_logger()
    holding = [verdict_line(r) for r in results if r.status not in BAD]
    if holding:
        logger.info(redact("\n".join(holding)))
    for r in results:
        if r.status in BAD:
            logger.warning(redact(verdict_line(r)))


def log_approval(approval: Approval) -> None:
    note = f" ({approval.note})" if approval.note else ""
    get_run_logger().info(redact(f"approved {approval.step} by {approval.who}{note}"))


def log_not_approved(step: str, summary: str) -> None:
    get_run_logger().warning(redact(f"{step}: not approved; not applied: {'; '.join(summary.splitlines())}"))


def log_attestation(attestation: Attestation) -> None:
    get_run_logger().info(redact(f"attested {attestation.control} on {attestation.target} by {attestation.who}"))
