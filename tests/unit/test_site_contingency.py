"""The site's contingency section: one fallback conferencing node per primary one, with identities of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from securemode.problems import InputError
from securemode.site_loader import load_site
from tests.unit.sites import example_document, set_secrets, with_contingency, write_site

FIX_COUNT = "Fix: list exactly one fallback node per entry of conferencing_nodes, in the same order"


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    set_secrets(monkeypatch)


def with_fallback() -> dict[str, Any]:
    """The example site with a fallback mirroring its management node and both conferencing nodes."""
    return with_contingency(example_document())


def errors(tmp_path: Path, doc: dict[str, Any]) -> list[str]:
    with pytest.raises(InputError) as info:
        load_site(write_site(tmp_path, doc))
    return [p.render() for p in info.value.problems if p.severity == "error"]


def test_a_fallback_node_per_primary_node_is_valid(tmp_path: Path) -> None:
    site = load_site(write_site(tmp_path, with_fallback())).site
    assert site.contingency is not None
    assert [n.name for n in site.contingency.conferencing_nodes] == ["conf01-c", "conf02-c"]


@pytest.mark.parametrize("keep", [1, 3])
def test_a_fallback_with_more_or_fewer_conferencing_nodes_is_refused(tmp_path: Path, keep: int) -> None:
    doc = with_fallback()
    nodes = doc["contingency"]["conferencing_nodes"]
    nodes.append({"name": "conf03-c", "hostname": "conf03-c", "address": "192.0.2.203"})
    doc["contingency"]["conferencing_nodes"] = nodes[:keep]
    [msg] = errors(tmp_path, doc)
    assert msg.startswith(
        f"contingency.conferencing_nodes: lists {keep} fallback node(s) for the primary's 2 conferencing node(s)"
    ), msg
    assert FIX_COUNT in msg


@pytest.mark.parametrize(
    ("where", "attr", "value", "owner"),
    [
        ("management_node", "name", "mgr01", "management_node"),
        ("management_node", "address", "192.0.2.11", "conferencing_nodes[0]"),
        ("conferencing_nodes", "hostname", "CONF02", "conferencing_nodes[1]"),
        ("conferencing_nodes", "address", "192.0.2.10", "management_node"),
        ("conferencing_nodes", "name", "mgr-c", "contingency.management_node"),
    ],
)
def test_a_fallback_identity_used_elsewhere_is_refused(
    tmp_path: Path, where: str, attr: str, value: str, owner: str
) -> None:
    doc = with_fallback()
    node = doc["contingency"][where] if where == "management_node" else doc["contingency"][where][1]
    node[attr] = value
    field = "contingency.management_node" if where == "management_node" else "contingency.conferencing_nodes[1]"
    [msg] = errors(tmp_path, doc)
    assert msg.startswith(f"{field}.{attr}: '{value}' is already used by {owner}"), msg
    assert f"Fix: give every fallback node its own {attr}, used by no primary node" in msg


def test_a_site_without_a_fallback_has_no_contingency_problem(tmp_path: Path) -> None:
    assert load_site(write_site(tmp_path, example_document())).site.contingency is None
