"""Docker work pools: each flow run in a container of the locally built worker image, on the host network.

The pool's job template says how every container starts: the project's worker image (never pulled:
there is no registry), the host network (the verifiers reach the lab and the Prefect server on
loopback as a process worker would), removed when it ends. Each site's deployments add what that
site needs: its folder read-only at the same path (the site file, its ``file:`` secrets, CA files and
evidence), and the state folder at the same path (pins, attestations, reverify history), so a run in a
container sees what a run in a process worker sees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from securemode.paths import STATE_ENV, state_dir
from securemode.secrets import is_reference
from securemode.site_loader import LoadedSite

POOL_TYPE = "docker"


class DockerPoolError(Exception):
    """A site cannot run in a Docker pool as it is; the message names the fix."""


def base_job_template(image: str) -> dict[str, Any]:
    """prefect-docker's job template with our defaults: our image, never pulled, host network, auto-removed."""
    from prefect_docker.worker import DockerWorker

    template: dict[str, Any] = DockerWorker.get_default_base_job_template()
    properties = template["variables"]["properties"]
    properties["image"]["default"] = image
    properties["image_pull_policy"]["default"] = "Never"
    properties["network_mode"]["default"] = "host"
    properties["auto_remove"]["default"] = True
    return template


def _secret_refs(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if is_reference(value) else []
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in _secret_refs(item)]
    if isinstance(value, list | tuple):
        return [ref for item in value for ref in _secret_refs(item)]
    return []


def mounts(loaded: LoadedSite) -> list[str]:
    """Bind mounts (``host:container[:ro]``) a container needs to run this site's flows as a process would."""
    refs = _secret_refs(loaded.site.model_dump(mode="json"))
    from_env = sorted({ref.removeprefix("env:") for ref in refs if ref.startswith("env:")})
    if from_env:
        raise DockerPoolError(
            f"--docker: the site's secrets {', '.join(from_env)} are env: references, which a "
            "container does not inherit. Fix: use file: references (or prefect-secret:) for "
            "sites run by Docker workers"
        )
    folders = {loaded.base_dir.resolve()}
    for ref in refs:
        if ref.startswith("file:"):
            path = Path(ref.removeprefix("file:"))
            folders.add((path if path.is_absolute() else loaded.base_dir / path).resolve().parent)
    inside = sorted(f for f in folders if not any(f != o and f.is_relative_to(o) for o in folders))
    state = state_dir()
    return [f"{folder}:{folder}:ro" for folder in inside if not folder.is_relative_to(state)] + [f"{state}:{state}"]


def job_variables(loaded: LoadedSite) -> dict[str, Any]:
    """The site's additions to the pool's template: its mounts and the state folder's location."""
    return {"volumes": mounts(loaded), "env": {STATE_ENV: str(state_dir())}}
