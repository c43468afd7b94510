"""Parity against two real Management Node twins, read through the engine's client: the configured pair
passes with only the guide's exceptions and node identities differing; a changed global setting fails by
name; an unreadable side is ERROR; a licence on the fallback fails its row; no secret reaches an export.

(The primary here keeps LDAP+LOCAL: with LDAP alone the twin would need a directory for the test's admin
to log in. The diff's rule for the authentication source is proven in tests/unit/test_parity_diff.py.)
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from securemode.infra.lab.secret_files import SecretFiles
from securemode.infra.twin import TwinManagementNode
from securemode.pexip.client import ManagementApi, RetryPolicy, config_uri
from securemode.pexip.export import SECRET_MARKER, ConfigurationExport, export_configuration
from securemode.pexip.trust import PinnedFingerprint
from securemode.results import Result, Status
from securemode.verifiers.parity import (
    LDAP_AND_LOCAL,
    NO_CLIENT_CERT,
    NO_LICENCE,
    PARITY,
    ApiSource,
    check_fallback_exceptions,
    check_no_licence,
    check_parity,
)
from tests.parity.deployment import FALLBACK, IDENTITIES, PRIMARY, Ca, client, configure, start_twin, write_secrets

GLOBAL = config_uri("global", 1)


@dataclass
class Pair:
    primary: TwinManagementNode
    fallback: TwinManagementNode
    secrets: SecretFiles

    def primary_api(self) -> ManagementApi:
        return client(self.primary, PRIMARY, self.secrets)

    def fallback_api(self) -> ManagementApi:
        return client(self.fallback, FALLBACK, self.secrets)

    def parity(self, primary: ApiSource | None = None, fallback: ApiSource | None = None) -> Result:
        return check_parity(
            PARITY, "contingency", primary or self.primary_api, fallback or self.fallback_api, IDENTITIES
        )


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    base = tmp_path_factory.mktemp("parity")
    secrets = write_secrets(base / "secrets")
    ca = Ca()
    primary = start_twin(base / "primary", PRIMARY, secrets)
    try:
        fallback = start_twin(base / "fallback", FALLBACK, secrets)
    except BaseException:
        primary.stop()
        raise
    try:
        started = Pair(primary, fallback, secrets)
        with started.primary_api() as api:
            configure(api, PRIMARY, secrets, ca)
        with started.fallback_api() as api:
            configure(api, FALLBACK, secrets, ca, reverse=True)
        yield started
    finally:
        fallback.stop()
        primary.stop()


def paths_of(result: Result) -> dict[str, list[str]]:
    """The paths of the allowed and the not allowed differences a parity result observed."""
    assert isinstance(result.observed, dict)
    return {kind: [d["path"] for d in result.observed[kind]] for kind in ("allowed", "not_allowed")}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable() -> ManagementApi:
    return ManagementApi(
        f"https://127.0.0.1:{closed_port()}",
        "admin",
        SecretStr("unused-password-1"),
        PinnedFingerprint("00" * 32),
        retry=RetryPolicy(attempts=1, sleep=lambda _s: None),
    )


def test_mirrored_pair_passes_with_only_allowed_differences(pair: Pair) -> None:
    result = pair.parity()
    assert result.status is Status.PASS, result.message
    observed = paths_of(result)
    allowed = set(observed["allowed"])
    assert observed["not_allowed"] == []
    assert "authentication.client_certificate" in allowed
    assert "licence[ENT-PRIMARY-1]" in allowed
    assert {
        "worker_vm[conf01].name",
        "worker_vm[conf01].hostname",
        "worker_vm[conf01].address",
        "worker_vm[conf01].tls_certificate",
        "management_vm[pexmgr.example.test].address",
    } <= allowed
    assert f"{len(allowed)} allowed difference(s)" in result.message
    assert not any(p.startswith(("global", "system_location", "ntp_server", "role", "ldap_role")) for p in allowed)


def test_changed_session_timeout_fails_naming_the_field(pair: Pair) -> None:
    with pair.primary_api() as api:
        api.patch(GLOBAL, {"management_session_timeout": 25})
    try:
        result = pair.parity()
    finally:
        with pair.primary_api() as api:
            api.patch(GLOBAL, {"management_session_timeout": 10})
    assert result.status is Status.FAIL
    assert "global.management_session_timeout: primary 25, fallback 10" in result.message
    assert paths_of(result)["not_allowed"] == ["global.management_session_timeout"]
    assert pair.parity().status is Status.PASS


def test_fallback_node_in_another_location_setting_fails(pair: Pair) -> None:
    """A difference inside a referenced object (the location's DSCP) is caught, not hidden by the reference."""
    with pair.fallback_api() as api:
        location = next(api.iter_objects("system_location", name="London"))
        api.patch(str(location["resource_uri"]), {"media_qos": 46})
    try:
        result = pair.parity()
    finally:
        with pair.fallback_api() as api:
            api.patch(str(location["resource_uri"]), {"media_qos": 51})
    assert result.status is Status.FAIL
    assert "system_location[London].media_qos: primary 51, fallback 46" in result.message


@pytest.mark.parametrize("side", ["primary", "fallback"])
def test_unreachable_side_is_error_naming_it(pair: Pair, side: str) -> None:
    result = pair.parity(primary=unreachable) if side == "primary" else pair.parity(fallback=unreachable)
    assert result.status is Status.ERROR
    assert f"cannot read the {side}" in result.message
    other = "fallback" if side == "primary" else "primary"
    assert f"cannot read the {other}" not in result.message


def test_fallback_exception_rows_pass_on_the_fallback_and_not_on_the_primary(pair: Pair) -> None:
    on_fallback = {r.control: r.status for r in check_fallback_exceptions("contingency", pair.fallback_api)}
    assert on_fallback == {LDAP_AND_LOCAL: Status.PASS, NO_CLIENT_CERT: Status.PASS, NO_LICENCE: Status.PASS}
    on_primary = {r.control: r.status for r in check_fallback_exceptions("primary", pair.primary_api)}
    assert on_primary[NO_CLIENT_CERT] is Status.FAIL
    assert on_primary[NO_LICENCE] is Status.FAIL
    unread = check_fallback_exceptions("contingency", unreachable)
    assert {r.status for r in unread} == {Status.ERROR}
    assert all("cannot read the fallback" in r.message for r in unread)


def test_licence_on_the_fallback_fails_no_licence_and_parity(pair: Pair) -> None:
    with pair.fallback_api() as api:
        uri = api.create("licence", {"entitlement_id": "ENT-STRAY-9"})
    try:
        row = check_no_licence("contingency", pair.fallback_api)
        parity = pair.parity()
    finally:
        with pair.fallback_api() as api:
            api.delete(uri)
    assert row.status is Status.FAIL
    assert row.observed == ["ENT-STRAY-9"]
    assert parity.status is Status.FAIL
    assert "licence[ENT-STRAY-9]" in parity.message
    assert check_no_licence("contingency", pair.fallback_api).status is Status.PASS


def _export(api: ManagementApi) -> ConfigurationExport:
    with api:
        return export_configuration(api)


@pytest.fixture(scope="module")
def exports(pair: Pair) -> tuple[ConfigurationExport, ConfigurationExport]:
    """One export of each side, read once for the tests that only look at exports."""
    return _export(pair.primary_api()), _export(pair.fallback_api())


def test_no_secret_reaches_an_export(pair: Pair, exports: tuple[ConfigurationExport, ConfigurationExport]) -> None:
    primary, fallback = exports
    texts = [e.model_dump_json() for e in exports] + [e.canonical_json() for e in exports]
    secrets = [pair.secrets.read(p.name) for p in sorted(pair.secrets.directory.iterdir())]
    assert len(secrets) >= 10
    for secret in secrets:
        assert all(secret not in text for text in texts)
    for side in (primary, fallback):
        node = next(iter(side.collections["worker_vm"].values()))
        assert node["snmp_community"] == SECRET_MARKER
        assert "snmp_authentication_password" not in node and "password" not in node
        assert side.collections["snmp_network_management_system"]["nms"]["snmp_trap_community"] == SECRET_MARKER
        assert "ldap_bind_password" not in side.singletons["authentication"]
    assert all("PRIVATE KEY" not in text for text in texts)


def test_export_is_normalised(exports: tuple[ConfigurationExport, ConfigurationExport]) -> None:
    primary, fallback = exports
    node = primary.collections["worker_vm"]["conf01"]
    assert node["system_location"] == "London"
    assert node["static_routes"] == ["mgmt"]
    assert node["tls_certificate"] == "conf01.example.test"
    assert "id" not in node and "resource_uri" not in node and "managed" not in node
    location = primary.collections["system_location"]["London"]
    assert location == fallback.collections["system_location"]["London"]  # created in the other order there
    assert location["dns_servers"] == ["127.0.53.2", "127.0.53.3"]
    assert location["syslog_servers"] == ["tls://127.0.80.1:6514"]
    assert location["snmp_network_management_system"] == "nms"
    assert primary.collections["ldap_role"]["auditors"]["roles"] == ["Auditor"]
    assert primary.collections["ntp_server"]["127.0.123.2"] == {
        "address": "127.0.123.2",
        "description": "",
        "key_id": 1,
    }
    assert "deployment_uuid" not in primary.singletons["global"]
    assert primary.collections["tls_certificate"]["conf01.example.test"]["issuer_name"] == "Parity Test CA"


def test_fingerprint_tracks_changes_of_the_primary(
    pair: Pair, exports: tuple[ConfigurationExport, ConfigurationExport]
) -> None:
    first = exports[0]
    again = _export(pair.primary_api())
    assert again.fingerprint() == first.fingerprint() and again.read_at > first.read_at
    with pair.primary_api() as api:
        api.patch(GLOBAL, {"logon_banner": "changed"})
    try:
        changed = _export(pair.primary_api())
    finally:
        with pair.primary_api() as api:
            api.patch(GLOBAL, {"logon_banner": "Authorised use only"})
    assert changed.fingerprint() != first.fingerprint()
