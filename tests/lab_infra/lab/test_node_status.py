"""The node status verifier against the lab's Management Node twin: its conferencing nodes report DEPLOYED and
SYNCED; a node that says otherwise, or stopped reporting, fails; a node it does not know, or an API it cannot
reach, is ERROR."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.infra.twin.state.twin_state import TwinState
from securemode.pexip.client import ManagementApi, RetryPolicy
from securemode.pexip.trust import PinnedFingerprint, normalise_fingerprint
from securemode.results import Status
from securemode.verifiers.node_status import check_node_status, check_node_status_with

CONTROL = "nodes.status"


def node(lab: RunningLab) -> str:
    return str(lab.site().site.conferencing_nodes[0].name)


def max_age(lab: RunningLab) -> float:
    """Recent for the lab: a few of its replication rounds."""
    return 10 * lab.manifest.sync_interval_s


@contextlib.contextmanager
def reported(lab: RunningLab, name: str, **fields: Any) -> Iterator[None]:
    """What the node reports to the Management Node for the block; the reports as they were after it."""
    state = TwinState(Path(lab.part("twin").facts["state_dir"]))
    before = state.store.get_kv("node_status")
    state.report_node_status(name, **fields)
    try:
        yield
    finally:
        state.store.set_kv("node_status", before or {})
        state.close()


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def test_a_registered_node_is_deployed_synced_and_recent(lab: RunningLab) -> None:
    result = check_node_status(CONTROL, node(lab), lab.site(), max_age_s=max_age(lab))
    assert result.status is Status.PASS, result.message
    assert isinstance(result.observed, dict) and result.observed["deploy_status"] == "DEPLOYED"


def test_a_node_not_deployed_fails_naming_its_status(lab: RunningLab) -> None:
    name = node(lab)
    with reported(lab, name, deploy_status="NOT_DEPLOYED", sync_status="UNKNOWN"):
        result = check_node_status(CONTROL, name, lab.site(), max_age_s=max_age(lab))
    assert result.status is Status.FAIL
    assert "deploy_status is NOT_DEPLOYED" in result.message and "sync_status is UNKNOWN" in result.message


def test_a_node_that_stopped_reporting_fails_as_stale(lab: RunningLab) -> None:
    name = node(lab)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=max_age(lab) + 60)
    with reported(lab, name, last_updated=iso(long_ago)):
        result = check_node_status(CONTROL, name, lab.site(), max_age_s=max_age(lab))
    assert result.status is Status.FAIL and "stale" in result.message
    with reported(lab, name, last_updated=None):
        assert check_node_status(CONTROL, name, lab.site(), max_age_s=max_age(lab)).status is Status.ERROR


def test_a_node_absent_from_status_is_error(lab: RunningLab) -> None:
    result = check_node_status(CONTROL, "conf99", lab.site(), max_age_s=max_age(lab))
    assert result.status is Status.ERROR and "not in the Management Node's status" in result.message


def test_an_unreachable_api_is_error(lab: RunningLab) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = int(s.getsockname()[1])
    trust = PinnedFingerprint(normalise_fingerprint(lab.api_fingerprint))

    def opener() -> ManagementApi:
        return ManagementApi(
            f"https://127.0.0.1:{closed}",
            "admin",
            SecretStr("not-used-x"),
            trust,
            retry=RetryPolicy(attempts=1),
            timeout_s=2,
        )

    result = check_node_status_with(CONTROL, node(lab), opener, max_age_s=max_age(lab))
    assert result.status is Status.ERROR and "cannot read the node status" in result.message
