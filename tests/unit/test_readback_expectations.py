"""The read-back's own expectations (CPU only): computed from the catalogue and the site, never from the
tasks' mapping, and still naming exactly the controls and API fields the catalogue describes."""

from __future__ import annotations

import pytest

from securemode.catalogue import BY_ID
from securemode.site import Site
from securemode.verifiers import api_expected as expect
from securemode.verifiers.vsphere.host import as_declared, same_option_value
from tests.unit.sites import example_document


@pytest.fixture
def site() -> Site:
    return Site.model_validate(example_document())


def test_every_expected_control_is_in_the_catalogue(site: Site) -> None:
    ids = [*expect.global_fields(site), *(c for c, _, _ in expect.role_removals())]
    ids += [c for loc in site.locations for c in expect.location_fields(loc)]
    assert ids and all(c in BY_ID for c in ids), [c for c in ids if c not in BY_ID]
    assert len(expect.global_fields(site)) == 16
    assert sorted(expect.location_fields(site.locations[0])) == [
        "platform.location.media-dscp",
        "platform.location.mtu",
        "platform.location.signalling-dscp",
    ]


def test_global_fields_resolve_the_site(site: Site) -> None:
    gs = site.global_settings
    fields = expect.global_fields(site)
    assert fields["platform.global.sip"] == {"enable_sip": gs.call_protocols.sip}
    assert fields["platform.global.ssh"] == {"enable_ssh": False}
    assert fields["platform.global.ocsp"] == {"ocsp_state": "OVERRIDE", "ocsp_responder_url": gs.ocsp_responder_url}
    assert fields["platform.global.media-ports"] == {
        "media_ports_start": gs.media_ports.start,
        "media_ports_end": gs.media_ports.end,
    }


def test_location_snmp_and_ipv6_fields(site: Site) -> None:
    loc = site.locations[0]
    assert expect.location_fields(loc)["platform.location.mtu"] == {"mtu": loc.mtu}
    assert expect.snmp_v3_fields(site) == {
        "snmp_mode": "AUTHPRIV",
        "snmp_username": site.snmp.username,
        "snmp_system_contact": site.snmp.system_contact,
        "snmp_system_location": site.snmp.system_location,
    }
    no_v6 = next(n for n in site.nodes() if n.ipv6_address is None)
    assert expect.ipv6_fields(no_v6) is None
    v6 = type(no_v6).model_validate({**no_v6.model_dump(), "ipv6_address": "2001:db8::10/64"})
    assert expect.ipv6_fields(v6) == {"ipv6_address": "2001:db8::10", "ipv6_gateway": ""}


def test_role_removals_are_the_guides_four() -> None:
    assert ("platform.role.read-only.no-view-logs", "Read-only", "May view logs") in expect.role_removals()
    assert len(expect.role_removals()) == 4


@pytest.mark.parametrize(
    ("kind", "have", "want", "same"),
    [
        ("long", 1, "1", True),  # the site writes numbers as text; the host declares a long
        ("long", 0, 1, False),
        ("bool", True, 1, True),
        ("bool", False, True, False),
        ("string", "1", 1, True),
        (None, 1, True, False),  # no declared type: an int is not a bool
        ("int", 900, 900, True),
    ],
)
def test_option_values_compare_in_the_declared_type(kind: str | None, have: object, want: object, same: bool) -> None:
    assert same_option_value(kind, have, want) is same  # type: ignore[arg-type]


def test_declared_type_conversion() -> None:
    assert as_declared("long", "600") == 600 and as_declared("bool", 0) is False and as_declared(None, "x") == "x"
