"""`securemode image build`: the Docker workers' image, built locally with the Docker SDK, pulled from nowhere.

Three layers, each reused while what it is made of is unchanged (a label holds that stamp); the
dependencies layer is also kept as an image archive in the machine's build cache, so a fresh engine (a new
state folder) loads it in seconds instead of installing every wheel again:

1. ``securemode-base:<stamp>``: the cached Debian bookworm minbase rootfs (Python 3.11), imported;
2. ``securemode-deps:<stamp>``: the project's locked runtime dependencies, installed by pip from
   the cached wheels with no network (``--no-index``, the container has ``network_mode=none``);
3. ``securemode-worker:<version>``: the project's own wheel on top.

A stamp is a hash of the layer's inputs, so a code change rebuilds only the last layer (seconds), and
a second ``image build`` with nothing changed only checks the stamps (seconds).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from securemode.deployments import docker_engine, image_inputs

STAMP_LABEL = "org.securemode.stamp"
BASE_REPO = "securemode-base"
DEPS_REPO = "securemode-deps"
WORKER_REPO = "securemode-worker"
ENV = [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG=C.UTF-8",
    "PYTHONDONTWRITEBYTECODE=1",
    "PIP_DISABLE_PIP_VERSION_CHECK=1",
]
PIP = ["python3", "-m", "pip", "install", "-q", "--no-index", "--break-system-packages", "--root-user-action=ignore"]


class ImageBuildError(Exception):
    """The image could not be built; the message is one line that names the cause."""


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    built: list[str]  # the layers made by this call (empty: everything was already there)


def worker_tag() -> str:
    """The worker image's tag for this version of the project."""
    return f"{WORKER_REPO}:{image_inputs.project_version()}"


def _stamp_of(client: Any, tag: str) -> str | None:
    from docker.errors import ImageNotFound

    try:
        image = client.images.get(tag)
    except ImageNotFound:
        return None
    labels = image.labels or {}
    return str(labels.get(STAMP_LABEL)) if STAMP_LABEL in labels else None


def _import_base(client: Any, tarball: Path, tag: str, stamp: str) -> None:
    """Import the rootfs tarball as an image (the SDK's import_image, with ENV and the stamp label)."""
    repository, _, version = tag.partition(":")
    changes = [f"ENV {e}" for e in ENV] + [f'LABEL {STAMP_LABEL}="{stamp}"', 'CMD ["python3"]']
    client.api.import_image_from_file(str(tarball), repository=repository, tag=version, changes=changes)


def _install_layer(client: Any, base: str, tag: str, stamp: str, mounts: dict[str, str], command: list[str]) -> None:
    """Run ``command`` in a container of ``base`` (no network, inputs mounted read-only), commit it as ``tag``."""
    volumes = {host: {"bind": inside, "mode": "ro"} for host, inside in mounts.items()}
    container = client.containers.create(base, command=command, network_mode="none", volumes=volumes)
    try:
        container.start()
        result = container.wait(timeout=900)
        if result.get("StatusCode") != 0:
            tail = container.logs(tail=5).decode(errors="replace").strip().splitlines()
            raise ImageBuildError(
                f"installing into {tag} failed (exit {result.get('StatusCode')}): {(tail or ['no output'])[-1][-300:]}"
            )
        repository, _, version = tag.partition(":")
        container.commit(
            repository=repository, tag=version, changes=[f'LABEL {STAMP_LABEL}="{stamp}"', 'CMD ["python3"]']
        )
    finally:
        container.remove(force=True)


def build() -> BuiltImage:
    """Build (or find) the worker image in the project's engine; returns its tag and the layers built."""
    from docker.errors import DockerException

    info = docker_engine.require_running()
    try:
        tarball = image_inputs.rootfs_tarball()
        wheels = image_inputs.dependency_wheels(image_inputs.image_python(tarball))
    except image_inputs.ImageInputError as exc:
        raise ImageBuildError(str(exc)) from None
    client = docker_engine.client(info)
    built: list[str] = []
    try:
        base_stamp = tarball.stem
        deps_stamp = f"{base_stamp}+{wheels.name}"
        deps = f"{DEPS_REPO}:{wheels.name.rsplit('-', 1)[-1]}"
        saved = image_inputs.cache_dir() / f"{DEPS_REPO}-{base_stamp.rsplit('-', 1)[-1]}-{deps.split(':')[1]}.tar"
        if _stamp_of(client, deps) != deps_stamp and saved.exists():
            with saved.open("rb") as archive:
                client.images.load(archive)
            built.append(f"{deps} (loaded from {saved.name})")
        if _stamp_of(client, deps) != deps_stamp:
            base = f"{BASE_REPO}:{base_stamp.rsplit('-', 1)[-1]}"
            if _stamp_of(client, base) != base_stamp:
                _import_base(client, tarball, base, base_stamp)
                built.append(base)
            _install_layer(
                client,
                base,
                deps,
                deps_stamp,
                {str(wheels): "/wheels"},
                [*PIP, "--find-links", "/wheels", "-r", "/wheels/requirements.txt"],
            )
            built.append(deps)
            _save(client, deps, saved)
        with tempfile.TemporaryDirectory(prefix="wheel-") as work:
            wheel = image_inputs.project_wheel(Path(work))
            tag = worker_tag()
            stamp = f"{deps_stamp}+{_wheel_digest(wheel)}"
            if _stamp_of(client, tag) != stamp:
                _install_layer(
                    client,
                    deps,
                    tag,
                    stamp,
                    {work: "/project"},
                    [*PIP, "--no-deps", "--force-reinstall", f"/project/{wheel.name}"],
                )
                built.append(tag)
    except image_inputs.ImageInputError as exc:
        raise ImageBuildError(str(exc)) from None
    except DockerException as exc:
        raise ImageBuildError(f"the Docker engine refused the build: {str(exc).splitlines()[0][-300:]}") from None
    finally:
        client.close()
    return BuiltImage(tag=tag, built=built)


def _save(client: Any, tag: str, path: Path) -> None:
    """Keep the dependencies layer as an image archive: a fresh engine loads it in seconds instead of
    installing every wheel again."""
    partial = path.with_suffix(f".{os.getpid()}.part")  # another checkout may be saving it too
    with partial.open("wb") as archive:
        for chunk in client.images.get(tag).save(named=True):
            archive.write(chunk)
    partial.rename(path)


def _wheel_digest(wheel: Path) -> str:
    """A digest of the wheel's files (not of the zip, whose timestamps change on every build)."""
    import hashlib
    import zipfile

    h = hashlib.sha256()
    with zipfile.ZipFile(wheel) as archive:
        for name in sorted(archive.namelist()):
            if name.endswith(".dist-info/RECORD"):
                continue
            h.update(name.encode())
            h.update(archive.read(name))
    return h.hexdigest()[:12]


def image_present(tag: str) -> bool:
    """True when the project's engine holds ``tag``."""
    client = docker_engine.client()
    try:
        return _stamp_of(client, tag) is not None
    finally:
        client.close()
