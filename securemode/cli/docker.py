"""`securemode docker …` (the project's own Docker engine, by PID) and `securemode image build` (the workers' image)."""

from __future__ import annotations

import time

import typer

from securemode.cli.fleet import err, out

docker_app = typer.Typer(
    no_args_is_help=True, help="The project's own Docker engine for Docker workers (start, status, stop)."
)
image_app = typer.Typer(no_args_is_help=True, help="The Docker workers' image, built locally.")


@docker_app.command("start")
def docker_start() -> None:
    """Start the project's dockerd (its own socket and folders under the state folder), or reuse it."""
    from securemode.deployments import docker_engine

    try:
        info, started = docker_engine.ensure_running()
    except docker_engine.DockerEngineError as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None
    out.print(
        f"{'started' if started else 'already running'}: dockerd (pid {info.pid}, DOCKER_HOST={info.docker_host})",
        markup=False,
    )


@docker_app.command("status")
def docker_status() -> None:
    """Say whether the project's dockerd runs and answers."""
    from securemode.deployments import docker_engine

    info = docker_engine.current()
    if info is None:
        out.print("not running")
        raise typer.Exit(1)
    state = "running" if docker_engine.ready(info) else "not answering"
    out.print(f"{state}: dockerd (pid {info.pid}, DOCKER_HOST={info.docker_host})", markup=False)


@docker_app.command("stop")
def docker_stop() -> None:
    """Stop the project's dockerd by PID (its containers and containerd stop with it)."""
    from securemode.deployments import docker_engine

    out.print("stopped" if docker_engine.stop() else "was not running")


@image_app.command("build")
def image_build() -> None:
    """Build the worker image (Debian bookworm minbase, Python 3.11, this project) in the project's engine."""
    from securemode.deployments import docker_engine, worker_image

    started = time.monotonic()
    try:
        with out.status("building the worker image…"):
            image = worker_image.build()
    except (docker_engine.DockerEngineError, worker_image.ImageBuildError) as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None
    made = f"built {', '.join(image.built)}" if image.built else "up to date"
    out.print(f"image: {image.tag} ({made}, {time.monotonic() - started:.1f} s)", markup=False)


def register(app: typer.Typer) -> None:
    """Add `docker` and `image` to the main command line."""
    app.add_typer(docker_app, name="docker")
    app.add_typer(image_app, name="image")
