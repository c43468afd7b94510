"""The layers contract holds on the tree, and breaks on an import that goes the wrong way.

import-linter runs as bin/test runs it: inside the installed layout that bin/installed-layout builds
(flows/, tasks/, ... as securemode.flows, securemode.tasks, ...). Each bad import is a new file in a
throw-away layout: the layout's other files are hard links to the sources and are never written.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def build_layout(out: Path) -> Path:
    loader = SourceFileLoader("installed_layout", str(ROOT / "bin" / "installed-layout"))
    spec = importlib.util.spec_from_loader("installed_layout", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    view: Path = module.build(ROOT, out)
    return view


def lint(view: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=view,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_layout(tmp_path_factory.mktemp("installed-layout"))


def test_the_tree_keeps_the_layers(layout: Path) -> None:
    result = lint(layout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("where", "source"),
    [
        ("securemode/catalogue/zz_wrong_way.py", "from securemode.flows import stages\n"),  # core -> flows
        ("securemode/pexip/zz_wrong_way.py", "import securemode.tasks.bootstrap\n"),  # a client -> a task
        ("securemode/tasks/zz_wrong_way.py", "from securemode.verifiers import web\n"),  # a task -> a verifier
        ("securemode/verifiers/zz_wrong_way.py", "from securemode.tasks import bootstrap\n"),  # a verifier -> a task
        ("securemode/flows/zz_wrong_way.py", "from securemode.deployments import serve\n"),  # flows -> deployments
        ("securemode/infra/zz_wrong_way.py", "from securemode.cli import app\n"),  # the lab -> the CLI
        ("securemode/zz_unplaced.py", '"""A module no layer names."""\n'),  # exhaustive: every module is placed
    ],
)
def test_an_import_the_wrong_way_breaks_the_contract(layout: Path, where: str, source: str) -> None:
    bad = layout / where
    assert not bad.exists(), f"{where} would overwrite a link to a source file"
    bad.write_text(source, encoding="utf-8")
    try:
        result = lint(layout)
    finally:
        bad.unlink()
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout
    assert Path(where).stem in result.stdout, result.stdout


def test_every_package_folder_is_installed() -> None:
    """setuptools installs only the packages pyproject.toml lists: a new folder must be listed too."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    on_disk = set()
    for name, folder in setuptools["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            on_disk.add(".".join([name, *init.parent.relative_to(ROOT / folder).parts]))
    assert sorted(on_disk) == sorted(setuptools["packages"])
