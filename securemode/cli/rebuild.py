"""How `securemode rebuild` drives the rebuild flow: through the managed local Prefect server, in this process."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from securemode.cli.driver import EXIT_NOT_COMPLIANT, EXIT_OK, connect_prefect
from securemode.flows.crashed_runs import mark_crashed_runs, run_tags
from securemode.redact import redact
from securemode.site_loader import load_site


class RebuildFailed(Exception):
    """The rebuild stopped on an error (the traceback is in the Prefect UI); the message says which and why."""


def drive_rebuild(
    site: Path,
    reason: str,
    nodes: list[str] | None,
    declared_by: str | None,
    approve: list[str],
    attest: list[str],
    approver: str | None,
    report_dir: Path | None,
    interactive: bool,
    console: Console,
) -> int:
    """Run the rebuild flow; print what it did; 0 when rebuilt and failed back, 1 otherwise."""
    ui = connect_prefect()
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from securemode.deployments import prefect_server
    from securemode.flows.rebuild import RebuildOutcome, run_rebuild
    from securemode.problems import InputError

    info = prefect_server.current()
    console.print(f"Prefect UI: {ui}", markup=False)
    site_name = load_site(site).site.name
    # The API URL in the settings context too: Prefect may have read its settings before connect_prefect set them.
    updates = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None, **({PREFECT_API_URL: info.api_url} if info else {})}
    try:
        with temporary_settings(updates=updates), run_tags(site_name):
            for name in mark_crashed_runs(site_name):
                console.print(f"flow run {name}: marked CRASHED (its process is gone)", markup=False)
            outcome: RebuildOutcome = run_rebuild(
                site_path=str(site.resolve()),
                reason=reason,
                declared_by=declared_by,
                nodes=nodes,
                approve=approve,
                attest=attest,
                approver=approver,
                interactive=interactive,
                report_dir=str(report_dir.resolve()) if report_dir else None,
            )
    except InputError:
        raise
    except Exception as exc:
        raise RebuildFailed(f"{type(exc).__name__}: {redact(str(exc))}") from None
    for line in summary(outcome):
        console.print(line, markup=False, highlight=False)
    for problem in outcome.problems:
        console.print(problem, markup=False, highlight=False, style="red")
    return EXIT_OK if outcome.rebuilt() else EXIT_NOT_COMPLIANT


def summary(outcome: object) -> list[str]:
    from securemode.flows.rebuild import RebuildOutcome

    assert isinstance(outcome, RebuildOutcome)
    lines = [
        f"rebuild {outcome.id} of {outcome.site} ({', '.join(outcome.nodes)}): {outcome.reason} "
        f"(declared by {outcome.declared_by})"
    ]
    lines += [f"  quarantined: {old} -> {new}" for old, new in outcome.quarantined.items()]
    lines += [f"  rotated: {field}" for field in outcome.rotated]
    lines += [f"  kept: {k.field} ({k.why})" for k in outcome.kept]
    lines += [f"  revoked: {len(outcome.revoked)} certificate(s)"]
    lines += [f"  revoke at the CA (manual): serial {s}" for s in outcome.revoke_manually]
    if outcome.failback:
        lines.append(f"  failback: {outcome.failback}")
    lines.append(f"  steps done: {', '.join(outcome.steps) or 'none'}")
    if outcome.report_dir:
        lines.append(f"  report: {Path(outcome.report_dir) / 'rebuild.json'}")
    return lines
