"""What the worker image is made of, kept in the machine's build cache: a Debian rootfs and the project's wheels.

Nothing is pulled from a registry. The rootfs comes from ``debootstrap --variant=minbase`` (Debian's
mirror, the one apt uses) as a tarball; the wheels are the project's own wheel plus its locked runtime
dependencies, fetched by pip on the host so that the image build itself needs no network at all.
Each input is named by a hash of what it depends on, so a second build (from any checkout) only finds them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from securemode.paths import build_cache

REPO = Path(__file__).resolve().parent.parent
SUITE = "bookworm"
PACKAGES = ("python3", "python3-pip")  # Python 3.11 with its full standard library, and pip to install wheels
DEFAULT_MIRROR = "http://deb.debian.org/debian"


class ImageInputError(Exception):
    """An input of the image could not be made; the message names the cause and the fix (one line)."""


def cache_dir() -> Path:
    """``docker`` in the machine's build cache (``.build/docker`` with SECUREMODE_CACHE_DIR=off)."""
    return build_cache("docker", REPO / ".build" / "docker")


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:12]


def apt_mirror() -> str:
    """The Debian mirror the machine's apt sources name (deb822 or one-line form), else deb.debian.org."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        for line in text.splitlines():
            words = line.split()
            if words[:1] == ["URIs:"] and len(words) > 1 and words[1].rstrip("/").endswith("/debian"):
                return words[1].rstrip("/")
            if words[:1] == ["deb"] and SUITE in words:
                url = next((w for w in words[1:] if w.startswith("http")), "")
                if url.rstrip("/").endswith("/debian"):
                    return url.rstrip("/")
    return DEFAULT_MIRROR


def rootfs_tarball() -> Path:
    """The cached ``debootstrap --variant=minbase`` rootfs as a tarball; made once (about 30 s)."""
    mirror = apt_mirror()
    tarball = cache_dir() / f"rootfs-{SUITE}-minbase-{_digest(SUITE, mirror, *PACKAGES)}.tar"
    if tarball.exists():
        return tarball
    debootstrap = shutil.which("debootstrap") or (
        "/usr/sbin/debootstrap" if Path("/usr/sbin/debootstrap").exists() else None
    )
    if debootstrap is None:
        raise ImageInputError("debootstrap not found. Fix: apt-get install -y debootstrap (bin/setup installs it)")
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=cache_dir()) as work:
        rootfs = Path(work) / "rootfs"
        done = subprocess.run(
            [debootstrap, "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(rootfs), mirror],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ImageInputError(f"debootstrap failed (exit {done.returncode}): {tail[0][-300:]}")
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / cache).glob("*"):
                if item.is_file():
                    item.unlink()
        partial = tarball.with_suffix(f".{os.getpid()}.part")  # another checkout may be making it too
        packed = subprocess.run(
            ["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."],
            capture_output=True,
            text=True,
            check=False,
        )
        if packed.returncode != 0:
            partial.unlink(missing_ok=True)
            raise ImageInputError(f"packing the rootfs failed: {packed.stderr.strip()[-300:]}")
        partial.rename(tarball)
    return tarball


def lock_file() -> Path:
    return REPO / "requirements.lock"


def project_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("securemode")
    except PackageNotFoundError:  # pragma: no cover - the project is always installed in its venv
        return "0.0.0"


def image_python(tarball: Path) -> str:
    """The Python version of the rootfs (from its dpkg status), e.g. ``3.11.2``: wheels must suit it, not us."""
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("./var/lib/dpkg/status")
        status = member.read().decode("utf-8", errors="replace") if member else ""
    for block in status.split("\n\n"):
        if block.startswith("Package: python3.11\n"):
            version = re.search(r"^Version: ([0-9.]+)", block, re.M)
            if version:
                return version.group(1)
    raise ImageInputError(f"the rootfs {tarball.name} has no python3.11 package. Fix: delete it and build again")


def dependency_wheels(python: str) -> Path:
    """The project's runtime dependencies as wheels, pinned by requirements.lock, for the image's ``python``.

    pip resolves for the host's Python; requirements whose markers only the image's Python meets (such as
    ``python_full_version < "3.11.3"``) are added until nothing is missing."""
    lock = lock_file().read_bytes()
    # Only what the wheels are made of: the rest of pyproject.toml (a new module's layer) changes nothing here.
    project = "\n".join(_runtime_requirements())
    folder = cache_dir() / f"wheels-{_digest(lock, project, python)}"
    if (folder / ".complete").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    requirements = folder / "requirements.txt"
    wanted = _runtime_requirements()
    for _ in range(5):
        requirements.write_text("\n".join(wanted) + "\n", encoding="utf-8")
        _pip_wheel(folder, requirements)
        missing = _missing_for(folder, python)
        if not missing:
            break
        wanted += missing
    (folder / ".complete").write_text("", encoding="utf-8")
    return folder


def _pip_wheel(folder: Path, requirements: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--disable-pip-version-check",
            "-w",
            str(folder),
            "-c",
            str(lock_file()),
            "-r",
            str(requirements),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "ERROR" in line] or done.stderr.splitlines()[-1:]
        raise ImageInputError(f"fetching the dependency wheels failed: {(errors or ['no output'])[0][-300:]}")


def _missing_for(folder: Path, python: str) -> list[str]:
    """Requirements of the wheels in ``folder`` that apply under ``python`` and have no wheel there."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name, parse_wheel_filename

    env = {key: str(value) for key, value in default_environment().items()}
    env.update(python_full_version=python, python_version=".".join(python.split(".")[:2]))
    have = {parse_wheel_filename(w.name)[0] for w in folder.glob("*.whl")}
    missing: set[str] = set()
    for wheel in folder.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            lines = archive.read(meta).decode("utf-8", errors="replace").splitlines()
        for line in lines:
            if not line.startswith("Requires-Dist: "):
                continue
            req = Requirement(line.removeprefix("Requires-Dist: "))
            if req.marker is not None and "extra" in str(req.marker):
                continue
            if (req.marker is None or req.marker.evaluate(env)) and canonicalize_name(req.name) not in have:
                missing.add(f"{req.name}{req.specifier}")
    return sorted(missing)


def _runtime_requirements() -> list[str]:
    import tomllib

    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return [str(r) for r in data["project"]["dependencies"]]


def project_wheel(into: Path) -> Path:
    """A wheel of the project's current source (pip builds it with the setuptools pyproject.toml asks for)."""
    if not (REPO / "pyproject.toml").exists():
        raise ImageInputError(
            f"no pyproject.toml in {REPO}. Fix: run securemode image build from the project's "
            "source checkout (bin/setup installs it editable)"
        )
    with tempfile.TemporaryDirectory(prefix="src-") as work:
        source = Path(work) / "src"
        shutil.copytree(
            REPO,
            source,
            ignore=shutil.ignore_patterns(
                ".git",
                ".venv",
                ".build",
                "var",
                "build",
                "__pycache__",
                "*.egg-info",
                ".*_cache",
                "tests",
                "bench",
                "out",
                "docs",
            ),
            symlinks=True,
        )
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
                "-w",
                str(into),
                str(source),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise ImageInputError(f"building the project wheel failed: {done.stderr.strip()[-300:]}")
    wheels = sorted(into.glob("securemode-*.whl"))
    if not wheels:
        raise ImageInputError("building the project wheel produced no securemode-*.whl")
    return wheels[-1]
