"""Helpers that build site documents for tests from the example site file."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "site.yaml"
SECRET_ENV = {
    "SM_VSPHERE_PASSWORD": "vsphere-secret-Q1",
    "SM_ADMIN_PASSWORD": "admin-secret-Q2",
    "SM_NODE_PASSWORD": "node-secret-Q3",
    "SM_NTP_KEY_1": "ntp-key-secret-Q4",
    "SM_NTP_KEY_2": "ntp-key-secret-Q5",
    "SM_SNMP_AUTH": "snmp-auth-secret-Q6",
    "SM_SNMP_PRIV": "snmp-priv-secret-Q7",
    "SM_LDAP_BIND": "ldap-bind-secret-Q8",
    "SM_SNMP_COMMUNITY": "k7-not-public",
    "SM_CONTINGENCY_ADMIN_PASSWORD": "contingency-secret-Q9",
}


def example_document() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(EXAMPLE.read_text()))


def set_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)


def write_site(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def with_contingency(document: dict[str, Any]) -> dict[str, Any]:
    """The example's commented-out contingency section, in force: one fallback node per primary node."""
    document["contingency"] = {
        "management_node": {"name": "mgr-c", "hostname": "mgr-c", "address": "192.0.2.200"},
        "conferencing_nodes": [
            {"name": f"{n['name']}-c", "hostname": f"{n['hostname']}-c", "address": f"192.0.2.{201 + i}"}
            for i, n in enumerate(document["conferencing_nodes"])
        ],
        "local_admin_password": "env:SM_CONTINGENCY_ADMIN_PASSWORD",
    }
    return document
