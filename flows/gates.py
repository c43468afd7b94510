"""Gates for gated steps and manual attestations, asked at flow level (Prefect can only pause a flow).

Order: approvals given in advance (`--approve STEP`, the site's `approvals.preapproved`), then an
interactive prompt when the CLI runs on a terminal, then — for runs started from the Prefect UI —
a pause for typed input (who approves, their note).
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime

from prefect import pause_flow_run
from prefect.input import RunInput
from prefect.runtime import deployment, flow_run

from securemode.engine import Gate, PreApproved
from securemode.reports.model import Approval
from securemode.results import Attestation
from securemode.site import ApprovalPolicy

PAUSE_TIMEOUT_S = 3600


class ApprovalInput(RunInput):
    """What the Prefect UI asks a person for before a gated step."""

    approved: bool = False
    who: str = ""
    note: str = ""


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
    """Pause the flow run for typed input in the Prefect UI."""

    def approve(self, step: str, summary: str) -> Approval | None:
        answer = self._pause(f"Approve gated step **{step}**\n\n{summary}")
        return Approval(step=step, who=answer.who, note=answer.note, at=datetime.now(UTC)) if answer else None

    def attest(self, control: str, target: str, question: str) -> Attestation | None:
        answer = self._pause(f"Attest **{control}** on **{target}**: {question}")
        return Attestation(control=control, target=target, who=answer.who, note=answer.note,
                           at=datetime.now(UTC)) if answer else None

    @staticmethod
    def _pause(description: str) -> ApprovalInput | None:
        answer = pause_flow_run(wait_for_input=ApprovalInput.with_initial_data(description=description),
                                timeout=PAUSE_TIMEOUT_S, poll_interval=2)
        return answer if answer.approved and answer.who.strip() else None


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
               interactive: bool) -> Gate:
    """The gate for this run from the site's policy and the CLI's flags."""
    if policy.mode == "deny":
        return PreApproved(set(), who="nobody")
    who = approver or policy.approver or getpass.getuser()
    gates: list[Gate] = [PreApproved(set(approve) | set(policy.preapproved), who=who, attest_controls=set(attest))]
    if policy.mode == "prompt":
        if interactive:
            gates.append(TerminalGate())
        elif deployment.id or flow_run.parent_deployment_id:  # started from the UI or a schedule
            gates.append(PrefectPauseGate())
    return ChainGate(gates)
