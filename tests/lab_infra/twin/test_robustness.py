"""Arbitrary JSON never gets a 500: every refusal is a 4xx with a JSON body."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lab_infra.twin.helpers import Api

FIELDS = [
    "enable_chat",
    "management_qos",
    "ocsp_state",
    "logon_banner",
    "media_ports_start",
    "dns_servers",
    "tls_certificate",
    "snmp_mode",
    "name",
    "address",
    "permissions",
    "source",
    "client_certificate",
    "port",
    "system_location",
    "certificate",
    "private_key",
    "key_id",
]
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)
BODIES = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=4)
TARGETS = [
    ("PATCH", "global/1/"),
    ("PATCH", "management_vm/1/"),
    ("PATCH", "authentication/1/"),
    ("POST", "worker_vm/"),
    ("POST", "role/"),
    ("POST", "tls_certificate/"),
    ("POST", "syslog_server/"),
    ("POST", "ntp_server/"),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(TARGETS), body=BODIES | st.lists(st.integers(), max_size=2) | st.text(max_size=5))
def test_no_500_on_arbitrary_bodies(api: Api, target: tuple[str, str], body: Any) -> None:
    method, path = target
    resp = api.request(method, path, json=body)
    assert resp.status_code < 500, resp.text
    if resp.status_code == 400:
        assert isinstance(resp.json(), dict)
