"""`securemode deploy`, `securemode worker …` and `securemode fleet …`: the site's deployments in a process
work pool, Prefect's workers that run them (started and stopped by PID), and runs across a fleet of sites."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from securemode.problems import InputError
from securemode.site_loader import LoadedSite, load_site

EXIT_INPUT = 2
out = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, soft_wrap=True)
worker_app = typer.Typer(no_args_is_help=True, help="Prefect workers for a work pool (start, status, stop).")

PoolOption = Annotated[str, typer.Option("--pool", help="The work pool.")]


def _bad(message: str) -> NoReturn:
    err.print(message, markup=False, highlight=False)
    raise typer.Exit(EXIT_INPUT)


def _check_name(option: str, value: str) -> None:
    from securemode.deployments.workers import valid_name

    if not valid_name(value):
        _bad(f"{option}: '{value}' is not a usable name. Fix: use letters, digits, '-', '_' or '.' (up to 63)")


def _load(site: Path) -> LoadedSite:
    try:
        return load_site(site)
    except InputError as exc:
        _bad(exc.render())


@contextmanager
def connected() -> Iterator[str]:
    """Point Prefect at the running managed server (workers and deployments need one); yields its API URL."""
    from securemode.deployments import prefect_server
    from securemode.prefect_env import apply_prefect_settings

    info = prefect_server.current()
    if info is None or not prefect_server.healthy(info):
        err.print("the local Prefect server is not running. Fix: securemode server start (add --database "
                  "postgresql for many pipelines at once)", markup=False)
        raise typer.Exit(1)
    apply_prefect_settings(info.api_url)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: info.api_url}):  # Prefect may have read the env already
        yield info.api_url


def deploy(
    site: Annotated[Path, typer.Option("--site", help="The site file (YAML).")],
    pool: PoolOption,
    pool_limit: Annotated[int | None, typer.Option("--pool-limit", min=1, help="Most pipelines running at once "
                                                   "in the pool (all sites).")] = None,
    docker: Annotated[bool, typer.Option("--docker", help="A Docker pool: each run in a container of the worker "
                                         "image (securemode image build), on the host network.")] = False,
) -> None:
    """Register the site's pipeline and reverify deployments in a work pool (one run per site at once)."""
    _check_name("--pool", pool)
    loaded = _load(site)
    from securemode.deployments.definitions import deploy_site
    from securemode.deployments.docker_pool import DockerPoolError
    from securemode.deployments.workers import WorkerError

    with connected():
        try:
            names = deploy_site(loaded, pool, pool_limit, docker=docker)
        except (DockerPoolError, WorkerError) as exc:
            _bad(str(exc))
    kind = "docker pool" if docker else "pool"
    for name in names:
        out.print(f"deployed: {name} ({kind} {pool}, queue site-{loaded.site.name}, one run at a time)",
                  markup=False)
    out.print(f"next: {'securemode image build, then ' if docker else ''}securemode worker start --pool {pool}",
              markup=False)


@worker_app.command("start")
def worker_start(
    pool: PoolOption,
    name: Annotated[str | None, typer.Option("--name", help="The worker's name (default: POOL-HOST).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Most flow runs this worker runs at once.")]
    = None,
) -> None:
    """Start Prefect's worker for POOL in the background: a process pool's runs as subprocesses, a Docker pool's
    as containers on the project's Docker engine."""
    from securemode.deployments import workers

    _check_name("--pool", pool)
    chosen = name or f"{pool}-{socket.gethostname()}"
    _check_name("--name", chosen)
    with connected() as api:
        kind = workers.type_of_pool(pool)
        if kind is None:
            _bad(f"--pool: no work pool '{pool}'. Fix: securemode deploy --site SITE.yaml --pool {pool}")
        extra_env = _docker_worker_env() if kind == "docker" else {}
        try:
            record = workers.start(pool, chosen, api, limit, kind=kind, extra_env=extra_env)
        except workers.WorkerError as exc:
            _bad(str(exc))
        if not workers.wait_online(record):
            workers.stop(chosen)
            err.print(f"worker {chosen} did not come online; see {workers.log_path(chosen)}", markup=False)
            raise typer.Exit(1)
    out.print(f"started: worker {chosen} on pool {pool} (pid {record.pid})", markup=False)


def _docker_worker_env() -> dict[str, str]:
    """A Docker worker talks to the project's own engine only, and its image must be there already."""
    from securemode.deployments import docker_engine, worker_image

    try:
        info = docker_engine.require_running()
    except docker_engine.DockerEngineError as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None
    tag = worker_image.worker_tag()
    if not worker_image.image_present(tag):
        err.print(f"the worker image {tag} is not in the project's Docker engine. Fix: securemode image build",
                  markup=False, highlight=False)
        raise typer.Exit(1)
    return {"DOCKER_HOST": info.docker_host}


@worker_app.command("status")
def worker_status() -> None:
    """List the workers we started that still run."""
    from securemode.deployments import workers

    found = workers.running()
    for record in found:
        out.print(f"running: worker {record.name} on pool {record.pool} (pid {record.pid})", markup=False)
    if not found:
        out.print("no worker running")
        raise typer.Exit(1)


@worker_app.command("stop")
def worker_stop(name: Annotated[str | None, typer.Option("--name", help="Only this worker (default: all).")]
                = None) -> None:
    """Stop the workers we started (SIGTERM, by PID)."""
    from securemode.deployments import workers

    stopped = workers.stop(name)
    out.print(f"stopped: {', '.join(stopped)}" if stopped else "no worker was running", markup=False)


def register(app: typer.Typer) -> None:
    """Add `deploy` and `worker` to the main command line."""
    app.command()(deploy)
    app.add_typer(worker_app, name="worker")
    app.add_typer(fleet_app, name="fleet")


fleet_app = typer.Typer(no_args_is_help=True, help="Many sites at once: a fleet file lists the site files.")


@fleet_app.command("reverify")
def fleet_reverify(
    fleet_file: Annotated[Path, typer.Argument(help="The fleet file (YAML: name, pool, sites).")],
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds to wait for every run.")] = 1800,
) -> None:
    """Start one reverify run per site in the fleet's pool, wait for all, and print one table."""
    from rich.table import Table

    from securemode.deployments import fleet

    try:
        loaded = fleet.load_fleet(fleet_file)
    except InputError as exc:
        _bad(exc.render())
    with connected():
        try:
            runs = fleet.start_reverify(loaded)
        except fleet.FleetError as exc:
            err.print(str(exc), markup=False)
            raise typer.Exit(1) from None
        out.print(f"fleet {loaded.spec.name}: {len(runs)} reverify run(s) started in pool {loaded.spec.pool}",
                  markup=False)
        runs = fleet.wait(runs, timeout)
    table = Table(title=f"fleet {loaded.spec.name} — reverify")
    for column in ("site", "state", "worker", "seconds", "PASS", "FAIL", "ERROR", "other", "flow run"):
        table.add_column(column, overflow="fold")
    for run in runs:
        known = run.counts["PASS"] + run.counts["FAIL"] + run.counts["ERROR"]
        table.add_row(run.site, run.state, run.worker or "-", f"{run.seconds:.1f}" if run.seconds else "-",
                      str(run.counts["PASS"]), str(run.counts["FAIL"]), str(run.counts["ERROR"]),
                      str(sum(run.counts.values()) - known), run.flow_run_id)
    out.print(table)
    raise typer.Exit(0 if all(r.holds() for r in runs) else 1)
