"""The contingency rows read without powering the fallback on: with the primary's Management API down the parity
row is ERROR, never PASS; with no parity record at all, or one past the site's bound, it is FAIL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from securemode.paths import STATE_ENV
from securemode.pexip import parity_record
from securemode.pexip.export import ConfigurationExport
from securemode.results import Status
from securemode.site_loader import LoadedSite, load_site
from securemode.targets import CONTINGENCY_TARGET
from securemode.verifiers.contingency import check_recorded_exception, check_recorded_parity
from tests.unit.sites import example_document, set_secrets, with_contingency, write_site

NOBODY = "127.0.0.254"  # a loopback address nothing listens on: the primary's API is down


@pytest.fixture
def primary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LoadedSite:
    set_secrets(monkeypatch)
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "state"))
    document = with_contingency(example_document())
    document["management_node"]["address"] = NOBODY
    return load_site(write_site(tmp_path, document))


def _record(primary: LoadedSite, age: timedelta) -> None:
    fallback = ConfigurationExport(source="https://192.0.2.200/api/admin/", read_at=datetime.now(UTC) - age,
                                   singletons={"authentication": {"source": "LDAP+LOCAL", "client_certificate": "NO"}})
    parity_record.save(primary, parity_record.ParityRecord(
        proven_at=datetime.now(UTC) - age, primary_fingerprint="0" * 64,
        fallback_export=fallback.model_dump(mode="json"), disallowed=[]))


def test_the_primary_down_is_error(primary: LoadedSite) -> None:
    _record(primary, timedelta(minutes=5))
    result = check_recorded_parity("contingency.parity", CONTINGENCY_TARGET, primary)
    assert result.status is Status.ERROR, result
    assert "cannot read the primary" in (result.message or "")


def test_no_record_is_fail_and_so_is_a_stale_one(primary: LoadedSite) -> None:
    assert check_recorded_parity("contingency.parity", CONTINGENCY_TARGET, primary).status is Status.FAIL
    assert check_recorded_exception("contingency.no-licence", CONTINGENCY_TARGET, primary).status is Status.FAIL
    _record(primary, timedelta(hours=primary.site.contingency.parity_max_age_hours + 1))  # type: ignore[union-attr]
    stale = check_recorded_exception("contingency.auth.ldap-and-local", CONTINGENCY_TARGET, primary)
    assert stale.status is Status.FAIL and "beyond the site's bound" in (stale.message or "")


def test_a_fresh_record_proves_the_exceptions(primary: LoadedSite) -> None:
    _record(primary, timedelta(minutes=5))
    for control in ("contingency.auth.ldap-and-local", "contingency.auth.no-client-cert", "contingency.no-licence"):
        assert check_recorded_exception(control, CONTINGENCY_TARGET, primary).status is Status.PASS, control
