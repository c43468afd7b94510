"""The Management API client against the twin: retries only what is transient, pagination, clear
400 messages without secrets, and fail-closed trust."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from securemode.infra.twin import TwinManagementNode, reset_connection, too_many_requests, unavailable
from securemode.pexip.client import ManagementApi, RetryPolicy, config_uri
from securemode.pexip.errors import TransientApiError, TrustError, ValidationFailed
from securemode.pexip.trust import PinnedFingerprint, choose_trust, normalise_fingerprint
from securemode.redact import register_secret
from tests.stages_pki_platform.lab import FAST

PASSWORD = "Client-test-Secret-77"
GLOBAL = config_uri("global", 1)


class Sleeps:
    """Records the waits the client asks for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwinManagementNode]:
    node = TwinManagementNode(tmp_path_factory.mktemp("client-twin"), "127.0.0.1", 0, config=FAST,
                              admin_password=PASSWORD).start()
    yield node
    node.stop()


@pytest.fixture(autouse=True)
def _no_faults(twin: TwinManagementNode) -> Iterator[None]:
    twin.faults.clear()
    yield
    twin.faults.clear()


def client(twin: TwinManagementNode, sleeps: Sleeps | None = None, attempts: int = 4) -> ManagementApi:
    pin = PinnedFingerprint(normalise_fingerprint(twin.fingerprint_sha256()))
    retry = RetryPolicy(attempts=attempts, sleep=sleeps or Sleeps())
    return ManagementApi(twin.base_url, "admin", SecretStr(PASSWORD), pin, retry=retry)


def test_429_honours_retry_after(twin: TwinManagementNode) -> None:
    rule = twin.faults.add(too_many_requests(retry_after=3, remaining=2, path_regex="/global/"))
    sleeps = Sleeps()
    with client(twin, sleeps) as api:
        assert api.get(GLOBAL)["id"] == 1
    assert sleeps.waits == [3.0, 3.0]
    assert twin.faults.rule(rule).hits == 2  # type: ignore[union-attr]


def test_503_backs_off_then_succeeds(twin: TwinManagementNode) -> None:
    twin.faults.add(unavailable(remaining=3, path_regex="/global/"))
    sleeps = Sleeps()
    with client(twin, sleeps) as api:
        assert api.get(GLOBAL)["id"] == 1
    assert sleeps.waits == [0.25, 0.5, 1.0]  # doubling backoff


def test_reset_connection_is_retried_for_reads(twin: TwinManagementNode) -> None:
    twin.faults.add(reset_connection(remaining=1, path_regex="/global/"))
    sleeps = Sleeps()
    with client(twin, sleeps) as api:
        assert api.get(GLOBAL)["id"] == 1
    assert len(sleeps.waits) == 1


def test_reset_during_post_is_not_retried(twin: TwinManagementNode) -> None:
    twin.faults.add(reset_connection(remaining=1, methods=("POST",)))
    with client(twin) as api, pytest.raises(TransientApiError, match="not retried"):
        api.create("dns_server", {"address": "192.0.2.99"})
    with client(twin) as api:
        assert not [o for o in api.iter_objects("dns_server") if o["address"] == "192.0.2.99"]


def test_retry_budget_is_bounded(twin: TwinManagementNode) -> None:
    twin.faults.add(unavailable(path_regex="/global/"))
    sleeps = Sleeps()
    with client(twin, sleeps, attempts=3) as api, pytest.raises(TransientApiError, match="after 3 attempts"):
        api.get(GLOBAL)
    assert len(sleeps.waits) == 2


def test_retry_after_beyond_the_cap_gives_up_at_once(twin: TwinManagementNode) -> None:
    twin.faults.add(too_many_requests(retry_after=3600, path_regex="/global/"))
    sleeps = Sleeps()
    with client(twin, sleeps) as api, pytest.raises(TransientApiError, match="3600"):
        api.get(GLOBAL)
    assert sleeps.waits == []


def test_real_retry_after_wait(twin: TwinManagementNode) -> None:
    twin.faults.add(too_many_requests(retry_after=1, remaining=1, path_regex="/global/"))
    pin = PinnedFingerprint(normalise_fingerprint(twin.fingerprint_sha256()))
    t0 = time.monotonic()
    with ManagementApi(twin.base_url, "admin", SecretStr(PASSWORD), pin) as api:
        api.get(GLOBAL)
    assert time.monotonic() - t0 >= 1.0


def test_400_names_the_field_and_hides_secrets(twin: TwinManagementNode) -> None:
    with client(twin) as api:
        with pytest.raises(ValidationFailed) as caught:
            api.patch(GLOBAL, {"management_session_timeout": 2})
        assert caught.value.status == 400
        assert "field 'management_session_timeout'" in str(caught.value)
        assert "greater than or equal to 5" in str(caught.value)
        secret = "echoed-secret-VALUE-91"
        register_secret(secret)
        with pytest.raises(ValidationFailed) as echoed:
            api.patch(GLOBAL, {"management_qos": secret})
        assert secret not in str(echoed.value) and "***" in str(echoed.value)
        assert "field 'management_qos'" in str(echoed.value)


def test_non_transient_errors_fail_at_once(twin: TwinManagementNode) -> None:
    sleeps = Sleeps()
    bad = ManagementApi(twin.base_url, "admin", SecretStr("wrong-password-x"),
                        PinnedFingerprint(normalise_fingerprint(twin.fingerprint_sha256())),
                        retry=RetryPolicy(sleep=sleeps))
    with bad, pytest.raises(Exception, match="HTTP 401"):
        bad.get(GLOBAL)
    assert sleeps.waits == []


def test_pagination_follows_meta_next(twin: TwinManagementNode) -> None:
    with client(twin) as api:
        before = len(list(api.iter_objects("syslog_server")))
        for i in range(45 - before):
            api.create("syslog_server", {"address": f"192.0.2.{i + 100}", "port": 514 + i})
        page = api.get(config_uri("syslog_server"))
        assert page["meta"]["next"] and len(page["objects"]) == 20
        seen = [(o["address"], o["port"]) for o in api.iter_objects("syslog_server")]
    assert len(seen) == 45 == len(set(seen))


def test_wrong_pin_fails_closed(twin: TwinManagementNode) -> None:
    wrong = PinnedFingerprint("00" * 32)
    with ManagementApi(twin.base_url, "admin", SecretStr(PASSWORD), wrong) as api, pytest.raises(TrustError):
        api.get(GLOBAL)


def test_choose_trust_without_pin_or_ca_refuses(twin: TwinManagementNode, tmp_path: Path) -> None:
    with pytest.raises(TrustError, match="not pinned"):
        choose_trust("127.0.0.1", twin.port, "mgr.example.test", None, None)
    served = normalise_fingerprint(twin.fingerprint_sha256())
    chosen = choose_trust("127.0.0.1", twin.port, "mgr.example.test", None, PinnedFingerprint(served))
    assert chosen == PinnedFingerprint(served)


def test_plain_http_is_refused(twin: TwinManagementNode) -> None:
    with pytest.raises(ValueError, match="HTTPS"):
        ManagementApi(twin.base_url.replace("https", "http"), "admin", SecretStr(PASSWORD),
                      PinnedFingerprint("00" * 32))
