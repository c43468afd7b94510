"""Property: any document gives a valid site or a clean InputError — never another exception."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securemode.problems import InputError
from securemode.site_loader import parse_site
from tests.unit.sites import SECRET_ENV, example_document

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 70000), st.floats(allow_nan=False),
                    st.text(max_size=12), st.sampled_from(["public", "env:NOPE", "file:/nonexistent", "4095",
                                                           "192.0.2.1", "::1", "SHA1", "tls", "LDAP"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            out += _paths(child, (*prefix, i))
    return out


@st.composite
def mutated_sites(draw: st.DrawFn) -> dict[str, Any]:
    doc = example_document()
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()):
            parent[path[-1]] = draw(values)
        elif isinstance(parent, dict):
            del parent[path[-1]]
    return doc


def _check(document: Any) -> None:
    text = yaml.safe_dump(document)
    try:
        parse_site(text, Path("/nonexistent/site.yaml"))
    except InputError as exc:
        assert exc.problems, "an InputError always names at least one problem"
        for problem in exc.problems:
            assert problem.field and problem.message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_sites())
def test_mutated_example_sites(document: dict[str, Any]) -> None:
    os.environ.update(SECRET_ENV)
    _check(document)


@settings(max_examples=100, deadline=None)
@given(values)
def test_random_documents(document: Any) -> None:
    _check(document)
