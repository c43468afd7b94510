"""Every control id the code names outside the catalogue is one the catalogue has (CPU only).

Tasks label their Changes and verifiers their Results with control ids; a typo there would put a result
under a control nobody asked for while the real control goes unchecked. The stages take their ids from
the catalogue's rows (``BY_ID[...]`` fails at import), so this covers the rest.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import get_args

from pydantic import BaseModel

from securemode.catalogue import BY_ID, Stage
from securemode.catalogue.gates import GATES
from securemode.site import Site

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("securemode", "flows", "tasks", "verifiers", "deployments")
LOOKS_LIKE_A_CONTROL = re.compile(rf"^({'|'.join(s.value for s in Stage)})\.[a-z0-9_-]+(\.[a-z0-9_-]+)*$")


def is_site_field(path: str, model: type[BaseModel] = Site) -> bool:
    """``pki.ca_dir`` is a field of the site file (named in error messages), not a control."""
    head, _, rest = path.partition(".")
    field = model.model_fields.get(head)
    if field is None:
        return False
    if not rest:
        return True
    inner = [t for t in (get_args(field.annotation) or (field.annotation,)) if t is not type(None)]
    return any(isinstance(t, type) and issubclass(t, BaseModel) and is_site_field(rest, t) for t in inner)


def _named_ids() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "catalogue" in path.relative_to(ROOT).parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and LOOKS_LIKE_A_CONTROL.match(node.value)
                ):
                    found.setdefault(node.value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_code_names_only_catalogue_controls_or_gates() -> None:
    named = _named_ids()
    assert len(named) > 30, "the scan found too few ids to be looking at the code"
    known = set(BY_ID) | set(GATES)
    unknown = {cid: where for cid, where in named.items() if cid not in known and not is_site_field(cid)}
    assert not unknown, f"control ids not in the catalogue: {unknown}"


def test_site_fields_are_told_from_controls() -> None:
    assert is_site_field("pki.ca_dir") and is_site_field("contingency.local_admin_password")
    assert not is_site_field("pki.tls10-refused")


def test_the_scan_would_see_a_typo() -> None:
    source = 'CONTROL = "pki.tls10-refuzed"\n'
    values = [n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant)]
    assert [v for v in values if LOOKS_LIKE_A_CONTROL.match(v) and v not in BY_ID] == ["pki.tls10-refuzed"]
