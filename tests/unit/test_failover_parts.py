"""The failover's small parts without a lab: the drift response a site asks for, the active-failover marker
and the rows it changes, and the command line's refusals of bad input (exit 2, before anything runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from securemode.failover_marker import active_failover, clear_failover, mark_failover
from securemode.fallback_site import fallback_path
from securemode.results import Status
from securemode.site import DriftResponse
from securemode.site_loader import load_fallback, load_site
from securemode.targets import CONTINGENCY_TARGET
from securemode.verifiers.contingency import fallback_powered_off, licence_transfer
from tests.unit.sites import SECRET_ENV, example_document, with_contingency, write_site
from tests.unit.test_cli import run


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SECUREMODE_STATE_DIR", str(tmp_path / "state"))
    doc = with_contingency(example_document())
    doc["name"] = "fo-site"
    return write_site(tmp_path, doc)


@pytest.mark.parametrize(
    ("setting", "severities", "expected"),
    [
        ({}, ["high", "medium", "low"], "notify"),
        ({"high": "repair"}, ["high"], "repair"),
        ({"high": "repair"}, ["medium", "low"], "notify"),
        ({"low": "repair"}, ["high", "low"], "repair"),
    ],
)
def test_drift_response_repairs_when_any_drifted_severity_asks(
    setting: dict[str, str], severities: list[str], expected: str
) -> None:
    assert DriftResponse.model_validate(setting).for_severities(severities) == expected


def test_the_marker_is_the_primarys_and_turns_the_contingency_rows(site: Path) -> None:
    primary = load_site(site)
    fallback = load_fallback(primary)
    assert active_failover(primary) is None
    assert licence_transfer("contingency.licence-transfer", CONTINGENCY_TARGET, primary).status is Status.NOT_APPLICABLE
    mark_failover(primary, "dana", "flood", "power-off")
    assert active_failover(fallback) == active_failover(primary)  # asked from either side: the same failover
    assert str(load_fallback(primary).path) == fallback_path(str(site))
    manual = licence_transfer("contingency.licence-transfer", CONTINGENCY_TARGET, primary)
    assert manual.status is Status.MANUAL and "failover active since" in manual.message and "dana" in manual.message
    # no vSphere is asked: while the failover stands the fallback being on is the plan
    no_reader: Any = None
    row = fallback_powered_off(
        "contingency.powered-off", "mgr-c", primary, no_reader, "mgr-c", "192.0.2.1", (443,), None
    )
    assert row.status is Status.NOT_APPLICABLE and "by dana (flood)" in row.message
    assert clear_failover(primary) and active_failover(primary) is None and not clear_failover(primary)


def test_the_command_line_refuses_bad_input(site: Path) -> None:
    bad_isolation = run("failover", "--site", str(site), "--reason", "x", "--isolate", "unplug", env=SECRET_ENV)
    assert bad_isolation.returncode == 2 and "--isolate: unknown isolation 'unplug'" in bad_isolation.stderr
    empty = run("incident", "--site", str(site), "--reason", " ", env=SECRET_ENV)
    assert empty.returncode == 2 and "--reason: must not be empty" in empty.stderr
    node = run("compromise", "--site", str(site), "--reason", "x", "--node", "nope", env=SECRET_ENV)
    assert node.returncode == 2 and "--node: nope not a node of site fo-site" in node.stderr
    attest = run("failover", "--site", str(site), "--reason", "x", "--attest", "auth.ldap-only", env=SECRET_ENV)
    assert attest.returncode == 2 and "--attest: the failover takes only contingency.licence-transfer" in attest.stderr
