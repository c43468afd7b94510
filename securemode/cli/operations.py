"""`securemode incident|compromise` (declare: emit the event, nothing else) and `securemode failover` (run it now).

A declaration goes to the managed Prefect server, where the site's automations (registered by ``serve`` and
``deploy``) start the failover or the rebuild; any other system can send the same event through Prefect's
events API. ``failover`` runs the flow in this process, as ``run`` runs the pipeline.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from securemode.cli.fleet import _load, err, out
from securemode.problems import InputError

EXIT_INPUT = 2
LICENCE = "contingency.licence-transfer"  # the failover's one attestation (flows.failover.LICENCE)
SiteOption = Annotated[Path, typer.Option("--site", help="The site file (YAML).")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded with the event and in the report).")]
ByOption = Annotated[str | None, typer.Option("--by", help="Who declares it (default: your user name).")]


def _reason(reason: str) -> str:
    if not reason.strip():
        err.print("--reason: must not be empty. Fix: say why, e.g. --reason 'primary datacentre flooded'", markup=False)
        raise typer.Exit(EXIT_INPUT)
    return reason.strip()


def _declare(event: str, site: Path, reason: str, by: str | None, nodes: list[str] | None = None) -> None:
    loaded = _load(site)
    text = _reason(reason)
    unknown = [n for n in nodes or [] if n not in {node.name for node in loaded.site.nodes()}]
    if unknown:
        err.print(
            f"--node: {', '.join(unknown)} not a node of site {loaded.site.name}. Fix: use any of "
            f"{', '.join(n.name for n in loaded.site.nodes())}",
            markup=False,
        )
        raise typer.Exit(EXIT_INPUT)
    from securemode.cli.driver import connect_prefect
    from securemode.flows.events import declare

    connect_prefect()
    from prefect.settings import temporary_settings

    with temporary_settings():  # settings read now, after connect_prefect() pointed them at the server
        event_id = declare(event, loaded.site.name, text, by or getpass.getuser(), nodes)
    out.print(f"{event} for site {loaded.site.name}: event {event_id}", markup=False)


def incident(site: SiteOption, reason: ReasonOption, by: ByOption = None) -> None:
    """Declare an incident (the primary is down or unusable): emit securemode.incident.declared, print its id."""
    from securemode.flows.events import INCIDENT_EVENT

    _declare(INCIDENT_EVENT, site, reason, by)


def compromise(
    site: SiteOption,
    reason: ReasonOption,
    by: ByOption = None,
    node: Annotated[
        list[str] | None, typer.Option("--node", help="A compromised node (repeat; none: the whole primary).")
    ] = None,
) -> None:
    """Declare a compromise: emit securemode.compromise.declared (with the nodes named), print its id."""
    from securemode.flows.events import COMPROMISE_EVENT

    _declare(COMPROMISE_EVENT, site, reason, by, node or [])


def failover(
    site: SiteOption,
    reason: ReasonOption,
    isolate: Annotated[
        str,
        typer.Option(
            "--isolate",
            help="power-off (guest shutdown, then power off) or "
            "disconnect (vNICs off; the VMs keep running for forensics).",
        ),
    ] = "power-off",
    by: ByOption = None,
    attest: Annotated[
        list[str] | None,
        typer.Option(
            "--attest",
            help="contingency.licence-transfer: attest the licence re-activation now instead of in the paused run.",
        ),
    ] = None,
    approver: Annotated[str | None, typer.Option("--approver", help="Who attests (recorded in the report).")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the failover's reports here.")] = None,
) -> None:
    """Fail over to the contingency deployment now; exit 0 when the fallback is verified and the licence
    transfer attested, 1 when not, 2 on bad input."""
    from securemode.tasks.failover.isolation import ISOLATIONS  # no Prefect import before connect_prefect()

    loaded = _load(site)
    text = _reason(reason)
    if isolate not in ISOLATIONS:
        err.print(f"--isolate: unknown isolation '{isolate}'. Fix: use {' or '.join(ISOLATIONS)}", markup=False)
        raise typer.Exit(EXIT_INPUT)
    if any(a != LICENCE for a in attest or []):
        err.print(f"--attest: the failover takes only {LICENCE}", markup=False)
        raise typer.Exit(EXIT_INPUT)
    if loaded.site.contingency is None:
        err.print(
            f"{site}: contingency is not defined: there is no fallback to fail over to. Fix: add a "
            "contingency section and build it (securemode run)",
            markup=False,
        )
        raise typer.Exit(EXIT_INPUT)
    from securemode.cli.driver import connect_prefect
    from securemode.flows.failover import run_failover

    ui = connect_prefect()
    out.print(f"Prefect UI: {ui}", markup=False)
    if LICENCE not in (attest or []):
        out.print(
            "the licence transfer will pause the run for input in the UI (who re-activated the licence on "
            "the fallback)",
            markup=False,
        )
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from securemode.flows.crashed_runs import run_tags

    try:
        # settings read now, after connect_prefect() pointed them at the server (as `run` does)
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}), run_tags(loaded.site.name):
            outcome = run_failover(
                site_path=str(site.resolve()),
                reason=text,
                declared_by=by or getpass.getuser(),
                isolation=isolate,
                attest=attest or [],
                approver=approver,
                report_dir=str(report.resolve()) if report else None,
            )
    except InputError as exc:
        err.print(exc.render(), markup=False, highlight=False)
        raise typer.Exit(EXIT_INPUT) from None
    for step in outcome.operation.timeline:
        out.print(
            f"  {step.started_at:%H:%M:%S} {step.seconds:7.1f} s  {step.step}"
            + (f": {step.note}" if step.note else ""),
            markup=False,
            highlight=False,
        )
    for problem in outcome.problems:
        err.print(problem, markup=False, highlight=False)
    out.print(outcome.rto_line(), markup=False)
    if outcome.report_dir:
        out.print(f"reports: {Path(outcome.report_dir) / 'report.html'}", markup=False)
    raise typer.Exit(0 if outcome.verified and outcome.licence is not None and not outcome.problems else 1)


def register(app: typer.Typer) -> None:
    app.command()(incident)
    app.command()(compromise)
    app.command()(failover)
