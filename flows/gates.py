"""Gates for gated steps and manual attestations, asked at flow level (Prefect can only pause a flow).

Order: approvals given in advance (`--approve STEP`, the site's `approvals.preapproved`), then an
interactive prompt when the CLI runs on a terminal, then — for runs started from the Prefect UI —
a pause for typed input (who approves, their note).
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from prefect.events import emit_event
from prefect.input import RunInput
from prefect.logging import get_run_logger
from prefect.runtime import deployment, flow_run
from pydantic import Field

from securemode.engine import Gate, PreApproved
from securemode.flows.events import APPROVAL_EVENT, run_ui_url, site_resource
from securemode.flows.pause import pause_for_input
from securemode.redact import redact
from securemode.reports.model import Approval
from securemode.results import Attestation
from securemode.site import ApprovalPolicy

PAUSE_TIMEOUT_S = 3600


class ApprovalInput(RunInput):
    """What the Prefect UI asks a person for before a gated step: both answers are required, so an
    empty submit is refused by the server instead of silently meaning "not approved"."""

    approved: bool = Field(description="Required. On: approve the change shown above. Off: decline it.")
    who: str = Field(min_length=1, pattern=r"\S", description="Required: your name, recorded in the report.")
    note: str = Field(default="", description="Optional (default: empty): why, or a ticket reference.")


class TerminalGate:
    """Ask on the terminal (only when the CLI runs interactively)."""

    def approve(self, step: str, summary: str) -> Approval | None:
        answer = self._ask(f"Approve gated step '{step}'?\n{summary}")
        return Approval(step=step, who=answer[0], note=answer[1], at=datetime.now(UTC)) if answer else None

    def attest(self, control: str, target: str, question: str) -> Attestation | None:
        answer = self._ask(f"Attest {control} on {target}: {question}")
        return Attestation(control=control, target=target, who=answer[0], note=answer[1],
                           at=datetime.now(UTC)) if answer else None

    @staticmethod
    def _ask(text: str) -> tuple[str, str] | None:
        print(text, file=sys.stderr)
        reply = input("Type 'yes' to approve: ").strip().lower()
        if reply != "yes":
            return None
        who = input(f"Your name [{getpass.getuser()}]: ").strip() or getpass.getuser()
        note = input("Note (optional): ").strip()
        return who, note


class PrefectPauseGate:
    """Pause the flow run for typed input in the Prefect UI (and announce it: see deployments/notifications.py)."""

    def __init__(self, site_name: str = "") -> None:
        self.site_name = site_name

    def approve(self, step: str, summary: str) -> Approval | None:
        diff = "; ".join(line.strip() for line in summary.splitlines() if line.strip())
        self._announce(f"{step.replace('.', ' ')} awaits approval: {diff}, approve at {run_ui_url()}")
        answer = self._pause(f"Approve gated step **{step}**?\n\n```\n{summary}\n```", key=step,
                             message=f"{step} awaits approval: {diff}")
        return Approval(step=step, who=answer.who, note=answer.note, at=datetime.now(UTC)) if answer else None

    def attest(self, control: str, target: str, question: str) -> Attestation | None:
        self._announce(f"{control} on {target} awaits attestation: {question}, attest at {run_ui_url()}")
        answer = self._pause(f"Attest **{control}** on **{target}**: {question}", key=f"{control}@{target}",
                             message=f"{control} on {target} awaits attestation: {question}")
        return Attestation(control=control, target=target, who=answer.who, note=answer.note,
                           at=datetime.now(UTC)) if answer else None

    def _announce(self, text: str) -> None:
        if self.site_name:
            emit_event(event=APPROVAL_EVENT, resource=site_resource(self.site_name), payload={"text": redact(text)})

    @staticmethod
    def _pause(description: str, key: str, message: str) -> ApprovalInput | None:
        logger = get_run_logger()
        logger.info(redact(message))
        answer = pause_for_input(ApprovalInput, description=description, message=redact(message), key=key,
                                 timeout_s=PAUSE_TIMEOUT_S)
        if not answer.approved:  # an approval is logged where it is used (flows/runlog.py)
            logger.warning(redact(f"{key}: declined by {answer.who}" + (f" ({answer.note})" if answer.note else "")))
        return answer if answer.approved else None


class ChainGate:
    """The first gate that approves wins."""

    def __init__(self, gates: list[Gate]) -> None:
        self.gates = gates

    def approve(self, step: str, summary: str) -> Approval | None:
        for gate in self.gates:
            found = gate.approve(step, summary)
            if found is not None:
                return found
        return None

    def attest(self, control: str, target: str, question: str) -> Attestation | None:
        for gate in self.gates:
            found = gate.attest(control, target, question)
            if found is not None:
                return found
        return None


def build_gate(policy: ApprovalPolicy, approve: list[str], attest: list[str], approver: str | None,
               interactive: bool, site_name: str = "") -> Gate:
    """The gate for this run from the site's policy and the CLI's flags."""
    if policy.mode == "deny":
        return PreApproved(set(), who="nobody")
    who = approver or policy.approver or getpass.getuser()
    gates: list[Gate] = [PreApproved(set(approve) | set(policy.preapproved), who=who, attest_controls=set(attest))]
    if policy.mode == "prompt":
        if interactive:
            gates.append(TerminalGate())
        elif started_from_deployment():  # started from the UI or a schedule
            gates.append(PrefectPauseGate(site_name))
    return ChainGate(gates)


_FROM_DEPLOYMENT: ContextVar[bool | None] = ContextVar("securemode_from_deployment", default=None)


def started_from_deployment() -> bool:
    """Whether this flow run or the one that started it came from a deployment: told by the pipeline
    (or reverify) to its stage flows, else asked of the API (two reads per stage flow otherwise)."""
    known = _FROM_DEPLOYMENT.get()
    if known is not None:
        return known
    return bool(deployment.id or flow_run.parent_deployment_id)


@contextmanager
def stages_started_from_deployment(value: bool) -> Iterator[None]:
    """Tell the stage flows started inside the block whether their parent run came from a deployment."""
    token = _FROM_DEPLOYMENT.set(value)
    try:
        yield
    finally:
        _FROM_DEPLOYMENT.reset(token)
