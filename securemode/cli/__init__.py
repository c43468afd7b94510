"""The `securemode` command line.

Bad input exits 2 with one line per problem (field and fix), never a traceback; a command that
is not built yet says so and exits 3; `plan` exits 4 when changes are pending (0 when none are).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from typer._click.core import Context as ClickContext  # typer 0.29 vendors click: its Context type
from typer.core import TyperGroup

from securemode.catalogue import CONTROLS, Stage, controls_for
from securemode.problems import InputError
from securemode.reports.model import Report
from securemode.site_loader import load_site

EXIT_INPUT = 2
EXIT_NOT_BUILT = 3

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Deploy Pexip Infinity on ESXi in secure mode, prove every control, keep proving it.")
server_app = typer.Typer(no_args_is_help=True, help="The managed local Prefect server (start, status, stop).")
app.add_typer(server_app, name="server")

# Scripts and CI read these lines whole: no wrapping at 80 columns when not on a terminal.
out = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., object])


def _input_error(exc: InputError) -> NoReturn:
    err.print(exc.render(), markup=False, highlight=False)
    raise typer.Exit(EXIT_INPUT)


def _parse_stages(text: str | None) -> list[Stage] | None:
    if not text:
        return None
    stages = []
    for name in (part.strip() for part in text.split(",") if part.strip()):
        try:
            stages.append(Stage(name))
        except ValueError:
            err.print(f"--stage: unknown stage '{name}'. Fix: use any of {', '.join(s.value for s in Stage)}",
                      markup=False)
            raise typer.Exit(EXIT_INPUT) from None
    return stages


NOT_BUILT = "stage not built"


@app.command()
def controls(
    stage: Annotated[str | None, typer.Option(help="Comma-separated stages to list.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the control catalogue: every requirement of the guide plus the ESXi STIG subset, each with the
    step that enforces it and the verifier(s) that prove it, named from the objects a run uses."""
    from securemode.flows.stages import bound_names

    selected = controls_for(_parse_stages(stage))
    names = bound_names()
    if as_json:
        print(json.dumps([c.model_dump(mode="json") | {"stage_built": names[c.id].built,
                                                       "enforced_by": names[c.id].fix,
                                                       "verified_by": list(names[c.id].verifiers)}
                          for c in selected], indent=2))
        return
    table = Table(title=f"{len(selected)} of {len(CONTROLS)} controls")
    for column in ("id", "section", "target", "desired", "severity", "flags", "enforced by", "verified by"):
        table.add_column(column, overflow="fold")
    for c in selected:
        bound = names[c.id]
        fix = (bound.fix or "verify only") if bound.built else NOT_BUILT
        proof = ", ".join(bound.verifiers) if bound.built else NOT_BUILT
        table.add_row(c.id, c.section, c.target.value, json.dumps(c.desired), c.severity.value,
                      ",".join(sorted(f.value for f in c.flags)), fix, proof)
    out.print(table)


@app.command()
def validate(site: Annotated[Path, typer.Argument(help="The site file (YAML).")]) -> None:
    """Check a site file; exit 2 naming every problem with its fix."""
    try:
        loaded = load_site(site)
    except InputError as exc:
        _input_error(exc)
    for warning in loaded.warnings:
        err.print(f"warning: {warning.render()}", markup=False, highlight=False)
    s = loaded.site
    out.print(f"{site}: valid — site '{s.name}', 1 management node, {len(s.conferencing_nodes)} conferencing "
              f"node(s), {len(s.locations)} location(s)", markup=False)


class _ReportGroup(TyperGroup):
    """`securemode report REPORT.json --out DIR` stays the default: anything but a subcommand means `render`."""

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["render", *args]
        return super().parse_args(ctx, args)


report_app = typer.Typer(cls=_ReportGroup, no_args_is_help=False,
                         help="Re-render reports (default), write a signed evidence bundle, or check one.")
app.add_typer(report_app, name="report")


def _read_report_or_exit(source: Path) -> Report:
    from securemode.reports.json_report import read_report

    try:
        return read_report(source)
    except (OSError, ValueError) as exc:
        err.print(f"{source}: not a readable securemode report ({type(exc).__name__}). Fix: pass the report.json "
                  "that verify or run wrote", markup=False)
        raise typer.Exit(EXIT_INPUT) from None


def _parse_formats(text: str) -> list[str]:
    from securemode.reports import FORMATS

    wanted = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        err.print(f"--format: unknown format '{', '.join(unknown) or text}'. Fix: use any of {','.join(FORMATS)}",
                  markup=False)
        raise typer.Exit(EXIT_INPUT)
    return wanted


@report_app.command("render")
def report_render(
    source: Annotated[Path | None, typer.Argument(help="A report.json written by verify or run.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Where to write the reports.")] = None,
    formats: Annotated[str, typer.Option("--format", help="Comma-separated: json,junit,html,hdf,cklb.")]
    = "json,junit,html,hdf,cklb",
    history: Annotated[Path | None, typer.Option("--history", help="A reverify history folder, for the "
                                                 "HTML compliance chart.")] = None,
    write_schema: Annotated[bool, typer.Option("--write-schema", help="Regenerate the committed JSON Schema.")]
    = False,
) -> None:
    """Re-render any report format from a report.json, or regenerate the report's JSON Schema."""
    from securemode.reports import write_reports
    from securemode.reports.history import load_history
    from securemode.reports.json_report import SCHEMA_PATH
    from securemode.reports.json_report import write_schema as write_schema_file

    if write_schema:
        write_schema_file()
        out.print(f"schema: {SCHEMA_PATH}", markup=False)
        return
    if source is None or out_dir is None:
        err.print("report: give a report.json and --out DIR (or --write-schema)", markup=False)
        raise typer.Exit(EXIT_INPUT)
    from securemode.cli.checks import output_dir

    wanted = _parse_formats(formats)
    if problems := output_dir("--out", out_dir):
        _input_error(InputError("command line", problems))
    loaded = _read_report_or_exit(source)
    for name, path in write_reports(loaded, out_dir, wanted, load_history(history) if history else None).items():
        out.print(f"{name}: {path}", markup=False)


@report_app.command("bundle")
def report_bundle(
    directory: Annotated[Path, typer.Argument(help="The report folder (with report.json) of a run.")],
    site: Annotated[Path, typer.Option("--site", help="The site file (YAML) naming evidence_signing_key.")],
    bundle_path: Annotated[Path | None, typer.Option("--out", help="The zip to write (default: "
                                                     "DIR/evidence-<site>-<time>.zip).")] = None,
) -> None:
    """Write a zip with every report format, the site file and a manifest signed with the site's key."""
    from datetime import UTC, datetime

    from securemode.reports.bundle import load_private_key, write_bundle
    from securemode.secrets import SecretError, resolve

    try:
        loaded = load_site(site)
    except InputError as exc:
        _input_error(exc)
    ref = loaded.site.evidence_signing_key
    if ref is None:
        err.print(f"{site}: evidence_signing_key is not set. Fix: add evidence_signing_key: file:PATH to an "
                  "Ed25519 key (openssl genpkey -algorithm ed25519 -out PATH)", markup=False)
        raise typer.Exit(EXIT_INPUT)
    try:
        key = load_private_key(resolve(ref, site.resolve().parent).get_secret_value())
    except (SecretError, ValueError) as exc:
        err.print(f"{site}: evidence_signing_key ({ref}): {exc}. Fix: point it at an unencrypted Ed25519 PEM key "
                  "(openssl genpkey -algorithm ed25519 -out PATH)", markup=False)
        raise typer.Exit(EXIT_INPUT) from None
    report = _read_report_or_exit(directory / "report.json")
    target = bundle_path or directory / f"evidence-{report.site}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.zip"
    manifest = write_bundle(report, site, key, target)
    out.print(f"bundle: {target} ({len(manifest.files)} files, manifest signed)", markup=False)


@report_app.command("check")
def report_check(
    bundle_path: Annotated[Path, typer.Argument(help="An evidence bundle written by `report bundle`.")],
    public_key: Annotated[Path | None, typer.Option("--public-key", help="The signer's Ed25519 public key "
                                                    "(PEM) you trust; without it the manifest's own key is used.")]
    = None,
) -> None:
    """Verify the bundle's signature and every file's SHA-256; name any file altered, added or removed."""
    import zipfile

    from securemode.reports.bundle import check_bundle

    try:
        trusted = public_key.read_text(encoding="utf-8") if public_key else None
        result = check_bundle(bundle_path, trusted)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        err.print(f"{bundle_path}: not a readable evidence bundle ({type(exc).__name__}). Fix: pass the zip that "
                  "`securemode report bundle` wrote (and a PEM public key to --public-key)", markup=False)
        raise typer.Exit(EXIT_INPUT) from None
    for name in result.altered:
        out.print(f"ALTERED: {name} (its SHA-256 differs from the signed manifest)", markup=False)
    for name in result.missing:
        out.print(f"MISSING: {name}", markup=False)
    for name in result.unexpected:
        out.print(f"UNEXPECTED: {name} (not in the signed manifest)", markup=False)
    if not result.signature_valid:
        out.print("SIGNATURE INVALID: the manifest was not signed by this key or was changed", markup=False)
    verdict = "intact" if result.intact else "NOT intact"
    out.print(f"{bundle_path}: {verdict}; signature checked with {result.key_source}", markup=False)
    raise typer.Exit(0 if result.intact else 1)


def _not_built(name: str, issue: str) -> NoReturn:
    err.print(f"securemode {name}: not built yet ({issue}).", markup=False)
    raise typer.Exit(EXIT_NOT_BUILT)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False)
def lab(ctx: typer.Context) -> None:
    """The embedded lab: `lab up | down | status` (`lab --help`, `lab up --help` list the options)."""
    try:
        from securemode.infra.lab_cli import run_lab_command
    except ImportError:
        _not_built("lab", "the lab lands with the lab issue")
    raise typer.Exit(run_lab_command(list(ctx.args)))


SiteOption = Annotated[Path, typer.Option("--site", help="The site file (YAML).")]
StageOption = Annotated[str | None, typer.Option("--stage", help="Comma-separated stages (default: all built).")]
ApproveOption = Annotated[list[str] | None, typer.Option("--approve", help="Approve a gated step by name.")]
AttestOption = Annotated[list[str] | None, typer.Option("--attest", help="Attest a MANUAL control by id.")]
ApproverOption = Annotated[str | None, typer.Option("--approver", help="Who approves (recorded in the report).")]
ReportOption = Annotated[Path | None, typer.Option("--report", help="Write report.json, junit.xml, report.html here.")]


def _drive(site: Path, stage: str | None, mode: str, approve: list[str] | None, attest: list[str] | None,
           approver: str | None, report_dir: Path | None, only_controls: list[str] | None = None) -> None:
    try:
        load_site(site)
    except InputError as exc:
        _input_error(exc)
    stages = _parse_stages(stage)
    from securemode.flows import stages as registry

    built = registry.available()
    missing = [s.value for s in (stages or []) if s not in built]
    if missing:
        _not_built(f"{mode} --stage {','.join(missing)}", "those stages land with their issues")
    if not built:
        _not_built(mode, "no stage is built yet")
    _check_arguments(stages or built, built, approve or [], attest or [], report_dir, only_controls or [])
    from securemode.cli.driver import StageFailed, drive

    try:
        code = drive(site, [s.value for s in stages] if stages else None, mode, approve or [], attest or [],
                     approver, report_dir, interactive=sys.stdin.isatty() and sys.stdout.isatty(), console=out,
                     only_controls=only_controls)
    except InputError as exc:
        _input_error(exc)
    except StageFailed as exc:
        err.print(f"securemode {mode}: a stage failed: {exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


def _check_arguments(stages: list[Stage], built: list[Stage], approve: list[str], attest: list[str],
                     report_dir: Path | None, only_controls: list[str]) -> None:
    """Unknown ids and unwritable outputs are bad input: refuse them before anything runs."""
    from securemode.cli import checks as cli_checks

    problems = cli_checks.control_ids(only_controls, stages)
    if approve:
        problems += cli_checks.unknown_ids("--approve", approve, cli_checks.gated_steps(built),
                                           "the name of a gated step")
    problems += cli_checks.unknown_ids("--attest", attest, cli_checks.attestable_controls(),
                                       "a control that takes an attestation")
    if report_dir is not None:
        problems += cli_checks.output_dir("--report", report_dir)
    if problems:
        _input_error(InputError("command line", problems))


@app.command()
def plan(site: SiteOption, stage: StageOption = None) -> None:
    """Show current → desired per control and target; change nothing. Exit 0: no changes, 4: changes pending."""
    _drive(site, stage, "plan", None, None, None, None)


@app.command()
def run(site: SiteOption, stage: StageOption = None, approve: ApproveOption = None, attest: AttestOption = None,
        approver: ApproverOption = None, report: ReportOption = None) -> None:
    """Apply each stage, verify it, and go on only while every control holds."""
    _drive(site, stage, "run", approve, attest, approver, report)


@app.command()
def verify(site: SiteOption, stage: StageOption = None, report: ReportOption = None,
           controls: Annotated[str | None, typer.Option("--controls", help="Comma-separated control ids "
                                                         "(default: all of the stages).")] = None) -> None:
    """Run every verifier of the stages (changing nothing) and write the reports."""
    only = [c.strip() for c in controls.split(",") if c.strip()] if controls else None
    _drive(site, stage, "verify", None, None, None, report, only)


@app.command()
def serve(site: SiteOption) -> None:
    """Register `secure-mode-deployment` and `reverify` (on the site's schedule) and keep serving them."""
    try:
        loaded = load_site(site)
    except InputError as exc:
        _input_error(exc)
    from securemode.cli.driver import connect_prefect

    ui = connect_prefect()
    out.print(f"Prefect UI: {ui}", markup=False)
    from securemode.deployments.serve import serve_site

    serve_site(loaded, announce=lambda line: out.print(line, markup=False, highlight=False))


@app.command("forget-pins")
def forget_pins(site: SiteOption) -> None:
    """Forget the Management Node's pinned HTTPS certificate and console host key (after a rebuild on purpose)."""
    try:
        loaded = load_site(site)
    except InputError as exc:
        _input_error(exc)
    from securemode.cli.pin_reset import forget_site_pins

    dropped = forget_site_pins(loaded)
    for line in dropped or ["no pins recorded for this site"]:
        out.print(f"forgotten: {line}" if dropped else line, markup=False)
    out.print(f"next: securemode run --site {site} --stage bootstrap --approve bootstrap.pin-web-certificate "
              "--approve bootstrap.pin-console-host-key (compare the keys with the node's console)", markup=False)


@app.command("rebuild")
def rebuild_command(
    site: SiteOption,
    reason: Annotated[str, typer.Option("--reason", help="Why: the compromise declared (recorded in the report).")],
    node: Annotated[list[str] | None, typer.Option("--node", help="A compromised node by name (repeatable); "
                                                   "default: the whole primary deployment.")] = None,
    declared_by: Annotated[str | None, typer.Option("--declared-by", help="Who declared the compromise "
                                                    "(default: the approver, else you).")] = None,
    approve: ApproveOption = None, attest: AttestOption = None, approver: ApproverOption = None,
    report: ReportOption = None,
) -> None:
    """Quarantine the compromised VMs, rotate every credential, redeploy from the OVA, run the pipeline, verify,
    then power the fallback off (gated: rebuild.failback). A rerun resumes an interrupted rebuild."""
    from securemode.rotation import rebuild_problems

    try:
        loaded = load_site(site)
    except InputError as exc:
        _input_error(exc)
    if problems := rebuild_problems(loaded.site, node or None)[1]:  # before Prefect, before anything changes
        _input_error(InputError(str(site), problems))
    from securemode.cli import checks as cli_checks
    from securemode.flows import stages as registry

    built = registry.available()
    problems = cli_checks.unknown_ids("--approve", approve or [], [*cli_checks.gated_steps(built), "rebuild.failback"],
                                      "the name of a gated step")
    problems += cli_checks.unknown_ids("--attest", attest or [], cli_checks.attestable_controls(),
                                       "a control that takes an attestation")
    if report is not None:
        problems += cli_checks.output_dir("--report", report)
    if problems:
        _input_error(InputError("command line", problems))
    from securemode.cli.rebuild import RebuildFailed, drive_rebuild

    try:
        code = drive_rebuild(site, reason, node or None, declared_by, approve or [], attest or [], approver, report,
                             interactive=sys.stdin.isatty() and sys.stdout.isatty(), console=out)
    except InputError as exc:
        _input_error(exc)
    except RebuildFailed as exc:
        err.print(f"securemode rebuild: {exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


@server_app.command("start")
def server_start(
    database: Annotated[str, typer.Option("--database", help="sqlite (default) or postgresql (a managed "
                                          "PostgreSQL under the state folder, for many pipelines at once).")]
    = "sqlite",
) -> None:
    """Start the local Prefect server (or reuse the running one) and print its UI address."""
    from securemode.deployments import postgres, prefect_server, server_backends

    try:
        chosen = server_backends.Database(database)
    except ValueError:
        err.print(f"--database: unknown database '{database}'. Fix: use sqlite or postgresql", markup=False)
        raise typer.Exit(EXIT_INPUT) from None
    with out.status("starting the local Prefect server…"):
        try:
            info, started = server_backends.start(chosen)
        except server_backends.DatabaseMismatch as exc:
            err.print(str(exc), markup=False)
            raise typer.Exit(EXIT_INPUT) from None
        except (prefect_server.PrefectServerError, postgres.PostgresError) as exc:
            err.print(str(exc), markup=False)
            raise typer.Exit(1) from None
    out.print(f"{'started' if started else 'already running'}: {info.ui_url} (pid {info.pid}, "
              f"database {info.database})", markup=False)


@server_app.command("status")
def server_status() -> None:
    """Say whether the local Prefect server runs and answers."""
    from securemode.deployments import prefect_server

    info = prefect_server.current()
    if info is None:
        out.print("not running")
        raise typer.Exit(1)
    state = "healthy" if prefect_server.healthy(info) else "not answering"
    out.print(f"{state}: {info.ui_url} (pid {info.pid}, database {info.database})", markup=False)


@server_app.command("stop")
def server_stop() -> None:
    """Stop the local Prefect server we started (and the managed PostgreSQL under it, if any)."""
    from securemode.deployments import server_backends

    out.print("stopped" if server_backends.stop() else "was not running")


def _register_fleet_commands() -> None:
    from securemode.cli.docker import register as register_docker
    from securemode.cli.fleet import register
    from securemode.cli.operations import register as register_operations

    register(app)
    register_docker(app)
    register_operations(app)


_register_fleet_commands()


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
