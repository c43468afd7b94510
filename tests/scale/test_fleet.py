"""`securemode fleet reverify FLEET.yaml`: two labs up at once, one reverify run per site spread over two
workers, one table whose counts are the ones each run's own report holds."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from securemode.infra.lab.lifecycle import UpOptions, down, up
from securemode.paths import STATE_ENV
from tests.scale.fleet_helpers import cli_env, own_state, securemode


@pytest.fixture(scope="module")
def two_labs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Path]]:
    if os.geteuid() != 0:
        pytest.skip("the lab needs root (network namespace, ports 22/161/443)")
    saved = os.environ[STATE_ENV]
    folders = [Path(str(tmp_path_factory.mktemp(f"fleet-lab-{i}"))) for i in range(2)]
    sites = []
    try:
        for folder in folders:
            os.environ[STATE_ENV] = str(folder)
            site = up(UpOptions(nodes=1, sync_interval_s=0.5)).manifest.site_file
            doc = yaml.safe_load(site.read_text())
            doc["approvals"] = {"mode": "deny"}  # unattended: a MANUAL control stays MANUAL, no pause for input
            site.write_text(yaml.safe_dump(doc, sort_keys=False))
            sites.append(site)
        os.environ[STATE_ENV] = saved
        yield sites
    finally:
        for folder in folders:
            os.environ[STATE_ENV] = str(folder)
            down()
        os.environ[STATE_ENV] = saved


def _rows(stdout: str, names: list[str]) -> dict[str, list[str]]:
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and cells[0] in names:
            rows[cells[0]] = cells
    return rows


@pytest.mark.timeout(420)
def test_fleet_reverify_fans_out_over_the_workers_and_prints_one_table(two_labs: list[Path],
                                                                        tmp_path: Path) -> None:
    names = [yaml.safe_load(site.read_text())["name"] for site in two_labs]
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({"name": "two-labs", "pool": "fleet", "sites": [str(s) for s in two_labs]}))
    with own_state() as state:
        env = cli_env(state, device_stages=False)
        assert securemode(env, "server", "start", timeout=180).returncode == 0
        for i, site in enumerate(two_labs):
            done = securemode(env, "deploy", "--site", str(site), "--pool", "fleet", *(["--pool-limit", "2"] if
                                                                                      i == 0 else []))
            assert done.returncode == 0, done.stderr
        for worker in ("w1", "w2"):
            done = securemode(env, "worker", "start", "--pool", "fleet", "--name", worker, "--limit", "1")
            assert done.returncode == 0, done.stderr
        done = securemode(env, "fleet", "reverify", str(fleet), "--timeout", "300", timeout=400)
        assert "fleet two-labs: 2 reverify run(s) started in pool fleet" in done.stdout, done.stdout + done.stderr
        rows = _rows(done.stdout, names)
        assert sorted(rows) == sorted(names), done.stdout
        assert {row[2] for row in rows.values()} == {"w1", "w2"}, done.stdout
        holds = True
        for name, row in rows.items():
            report = json.loads((state / "reverify" / name / "last" / "report.json").read_text())
            statuses = Counter(r["status"] for r in report["results"])
            assert [int(c) for c in row[4:7]] == [statuses["PASS"], statuses["FAIL"], statuses["ERROR"]], row
            assert int(row[7]) == sum(statuses.values()) - statuses["PASS"] - statuses["FAIL"] - statuses["ERROR"]
            assert sum(statuses.values()) > 0
            site_holds = not (statuses["FAIL"] or statuses["ERROR"])
            assert row[1] == ("COMPLETED" if site_holds else "FAILED"), row  # the run state tells the truth
            holds = holds and site_holds
        assert done.returncode == (0 if holds else 1)


def test_a_bad_fleet_file_names_each_problem(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({"name": "x", "pool": "bad pool", "sites": ["missing.yaml"], "extra": 1}))
    with own_state() as state:
        done = securemode(cli_env(state, device_stages=False), "fleet", "reverify", str(fleet))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "pool: String should match pattern" in done.stderr and "extra: Extra inputs are not permitted" in done.stderr
