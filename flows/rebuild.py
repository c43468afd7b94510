"""`rebuild`: after a compromise, replace the primary deployment (or the named nodes) with fresh VMs and fresh
credentials, keeping the old VMs as evidence.

Steps, each recorded in the site's state folder when it finishes (:mod:`securemode.pexip.rebuild_record`), so a
rebuild killed at any point resumes at the step it was in and ends in one rebuilt deployment:

``inventory``   the credentials (salted digests of their values) and certificates the deployment holds
``quarantine``  power off, disconnect the vNICs, snapshot where ``rebuild.snapshot_for_forensics``, rename
``rotate``      a new value behind every credential to rotate, written through its reference's backend
``revoke``      the old node and client certificates revoked through the CA adapter
``set-aside``   the old deployment's engine state (pins, cut-over, keys, …) moved aside
``redeploy``    the whole pipeline from the OVA on the bare path, with the new credentials; compliant or stop
``verify``      every credential to rotate holds a new value, every old certificate reads revoked
``failback``    (gated: ``rebuild.failback``) the fallback powered off, any active failover cleared

Before anything changes, an ``env:`` reference among the credentials to rotate stops the rebuild naming the
field and the fix. No value is logged or reported: only field names, backends and certificate serials.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path

from prefect import flow, get_run_logger
from pydantic import BaseModel, Field

from securemode import rotation
from securemode.ca_adapters import adapter_for
from securemode.flows.gates import build_gate
from securemode.flows.naming import rebuild_run_name
from securemode.flows.pipeline import PipelineOutcome, secure_mode_deployment
from securemode.flows.states import FlowReturn, failed_with, outcome_of
from securemode.pexip import parity_record, rebuild_record
from securemode.pexip.rebuild_record import RebuildRecord
from securemode.problems import InputError, Problem
from securemode.redact import redact
from securemode.site_loader import LoadedSite, load_site
from securemode.tasks.rebuild import certificates, engine_state, failback, rotate
from securemode.tasks.rebuild.capacity import capacity_problems
from securemode.tasks.rebuild.quarantine import quarantine_vm, read_quarantine
from securemode.vsphere import open_site_session

STEPS = ("inventory", "quarantine", "rotate", "revoke", "set-aside", "redeploy", "verify", "failback")
FAILBACK_GATE = "rebuild.failback"


class KeptCredential(BaseModel):
    field: str
    why: str


class RebuildOutcome(BaseModel):
    """What the rebuild did (names, backends and serials only, never a value)."""

    site: str
    id: str
    reason: str
    declared_by: str
    nodes: list[str]
    steps: dict[str, str] = Field(default_factory=dict)
    quarantined: dict[str, str] = Field(default_factory=dict)
    rotated: list[str] = Field(default_factory=list)
    kept: list[KeptCredential] = Field(default_factory=list)
    revoked: list[str] = Field(default_factory=list)
    revoke_manually: list[str] = Field(default_factory=list)
    set_aside: list[str] = Field(default_factory=list)
    failback: str = ""
    pipeline_compliant: bool = False
    problems: list[str] = Field(default_factory=list)
    finished: bool = False
    report_dir: str | None = None

    def rebuilt(self) -> bool:
        return self.finished and not self.problems


def check_rebuild(loaded: LoadedSite, nodes: list[str] | None) -> list[str]:
    """The VMs to rebuild; raise InputError (before anything changes) for an unknown node or a credential to
    rotate whose reference the engine cannot write."""
    vms, problems = rotation.rebuild_problems(loaded.site, nodes)
    if problems:
        raise InputError(str(loaded.path), problems)
    return vms


def _open_record(loaded: LoadedSite, reason: str, declared_by: str, vms: list[str], named: bool) -> RebuildRecord:
    record = rebuild_record.current(loaded)
    if record is None:
        return rebuild_record.start(loaded, reason, declared_by, vms)
    if named and sorted(vms) != sorted(record.nodes):
        raise InputError(
            str(loaded.path),
            [
                Problem(
                    field="nodes",
                    message=f"the rebuild {record.id} of {', '.join(record.nodes)} is not finished",
                    fix="rerun with the same nodes (or none) to finish it first",
                )
            ],
        )
    return record


@flow(name="rebuild", flow_run_name=rebuild_run_name, log_prints=False)
def rebuild(
    site_path: str,
    reason: str,
    declared_by: str | None = None,
    nodes: list[str] | None = None,
    declared_at: str | None = None,
    approve: list[str] | None = None,
    attest: list[str] | None = None,
    approver: str | None = None,
    report_dir: str | None = None,
    interactive: bool = False,
) -> FlowReturn[RebuildOutcome]:
    """Quarantine, rotate, revoke, redeploy, verify, fail back — resuming a rebuild a kill interrupted.

    ``declared_at``: when the compromise was declared (the automation passes the event's time); logged."""
    logger = get_run_logger()
    if declared_at:
        logger.info("rebuild: compromise declared at %s by %s: %s", declared_at, declared_by or "?", reason)
    loaded = load_site(Path(site_path))
    who = declared_by or approver or getpass.getuser()
    vms = check_rebuild(loaded, nodes)
    record = rebuild_record.current(loaded)
    if record is None and (problems := capacity_problems(loaded, vms)):
        raise InputError(site_path, problems)  # before anything changes
    record = _open_record(loaded, reason, who, vms, bool(nodes))
    vms = record.nodes
    outcome = RebuildOutcome(
        site=loaded.site.name,
        id=record.id,
        reason=str(record.data["reason"]),
        declared_by=str(record.data["declared_by"]),
        nodes=vms,
        report_dir=report_dir,
        kept=[
            KeptCredential(field=c.field, why=c.why_kept)
            for c in rotation.credentials(loaded.site, vms)
            if c.action == rotation.KEPT
        ],
    )

    def step(name: str) -> bool:
        todo = not record.done(name)
        logger.info("rebuild %s: %s%s", record.id, name, "" if todo else " (done before)")
        return todo

    if step("inventory"):
        record.finish(
            "inventory",
            before=rotate.record_before(loaded, vms),
            old_certificates=certificates.old_certificates(loaded, vms),
        )
    if step("quarantine"):
        snapshot = loaded.site.rebuild.snapshot_for_forensics
        with open_site_session(loaded) as session:
            for name in vms:
                found = read_quarantine(session, name, record.id)
                quarantine_vm(session, found, snapshot, outcome.reason, record.id)
                if found.vm is not None:
                    record.data["quarantined"][name] = found.new_name
                    record.save()
        record.finish("quarantine")
    if step("rotate"):
        rotate.rotate_credentials(loaded, record.data["before"], vms)
        record.finish("rotate", rotated=rotate.rotated_fields(loaded, record.data["before"], vms))
    if step("revoke"):
        old = record.data["old_certificates"]
        revoked, manual = certificates.revoke_all(
            loaded, [*old["node"], *old["client"]], f"rebuild {record.id}: {outcome.reason}"
        )
        record.finish("revoke", revoked=revoked, revoke_manually=manual)
    if step("set-aside"):
        moved = engine_state.set_aside(loaded, record.id, vms)
        if loaded.site.contingency is not None:  # the fallback takes the new credentials at its next refresh
            parity_record.request_refresh(loaded, f"the primary was rebuilt ({record.id})")
        record.finish("set-aside", set_aside=sorted({*record.data.get("set_aside", []), *moved}))
    _fill(outcome, record)
    if step("redeploy"):
        pipeline = outcome_of(
            secure_mode_deployment(
                site_path=site_path,
                mode="run",
                approve=approve,
                attest=attest,
                approver=approver,
                interactive=interactive,
                report_dir=str(Path(report_dir) / "pipeline") if report_dir else None,
                return_state=True,
            ),
            PipelineOutcome,
        )
        outcome.pipeline_compliant = pipeline.compliant()
        if not outcome.pipeline_compliant:
            outcome.problems += [f"redeploy: {p}" for p in pipeline.problems] or ["redeploy: not compliant"]
            return _end(outcome, record)
        record.finish("redeploy")
    outcome.pipeline_compliant = True
    if step("verify"):
        outcome.problems += verify_rotation(load_site(Path(site_path)), record)
        if outcome.problems:
            return _end(outcome, record)
        record.finish("verify")
    if step("failback"):
        gate = build_gate(loaded.site.approvals, approve or [], attest or [], approver, interactive, loaded.site.name)
        summary = (
            f"power the contingency deployment off and clear any active failover of {loaded.site.name} "
            f"(rebuild {record.id})"
        )
        approval = gate.approve(FAILBACK_GATE, summary)
        if approval is None:
            outcome.problems.append(
                f"{FAILBACK_GATE}: not approved; the rebuilt primary is compliant, the "
                f"failback waits (rerun with --approve {FAILBACK_GATE})"
            )
            return _end(outcome, record)
        stopped = failback.fallback_off(loaded)
        cleared = failback.clear_active_failover(loaded)
        off = f"fallback VMs powered off: {', '.join(stopped)}" if stopped else "no fallback VM was running"
        record.finish("failback", failback=f"{off}; {cleared}; approved by {approval.who}")
    _fill(outcome, record)
    outcome.finished = True
    return _end(outcome, record)


def verify_rotation(loaded: LoadedSite, record: RebuildRecord) -> list[str]:
    """Every credential to rotate holds a value other than before; every old certificate reads revoked and no
    rebuilt node serves one."""
    problems = [
        f"{c.field}: still holds the value it had before the rebuild"
        for c in rotate.still_old(loaded, record.data["before"], record.nodes)
    ]
    adapter = adapter_for(loaded)
    revoked = getattr(adapter, "revoked", None)
    old = record.data["old_certificates"]
    if revoked is not None:
        problems += [
            f"certificate {certificates.serial_of(pem)}: not revoked by the CA"
            for pem in [*old["node"], *old["client"]]
            if not revoked(pem)
        ]
    problems += [
        f"{node}: still serves the old certificate {serial}; remove it from the Management Node, then rerun"
        for node, serial in certificates.still_served(loaded, record.nodes, old["node"]).items()
    ]
    return problems


def _fill(outcome: RebuildOutcome, record: RebuildRecord) -> None:
    data = record.data
    outcome.steps = dict(data["steps"])
    outcome.quarantined = dict(data["quarantined"])
    outcome.rotated = list(data.get("rotated", []))
    outcome.revoked = list(data.get("revoked", []))
    outcome.revoke_manually = list(data.get("revoke_manually", []))
    outcome.set_aside = list(data.get("set_aside", []))
    outcome.failback = str(data.get("failback", ""))


def _end(outcome: RebuildOutcome, record: RebuildRecord) -> FlowReturn[RebuildOutcome]:
    if outcome.finished and not outcome.problems:
        record.close()
    if outcome.report_dir:
        folder = Path(outcome.report_dir)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "rebuild.json").write_text(
            redact(json.dumps(outcome.model_dump(mode="json"), indent=2)) + "\n", encoding="utf-8"
        )
    if outcome.problems:
        return failed_with(outcome, f"rebuild {outcome.id}: " + " | ".join(outcome.problems))
    return outcome


def run_rebuild(**parameters: object) -> RebuildOutcome:
    """Call the rebuild flow in this process and return its outcome, finished or not."""
    return outcome_of(rebuild(**parameters, return_state=True), RebuildOutcome)  # type: ignore[arg-type]
