"""Read a site file and report every problem in it at once, by field, with a fix (principle 8)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import ErrorDetails

from securemode import fallback_site
from securemode.problems import InputError, Problem, Severity
from securemode.secrets import resolve
from securemode.site import Site
from securemode.site_rules import check_rules
from securemode.site_yaml import DocumentError, decode, load_document


@dataclass(frozen=True)
class LoadedSite:
    """A validated site plus where it came from, for relative paths and secret files."""

    site: Site
    path: Path
    warnings: tuple[Problem, ...] = ()
    primary: LoadedSite | None = None  # set on a contingency deployment's site: the primary it mirrors

    @property
    def is_fallback(self) -> bool:
        return self.primary is not None

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve_path(self, value: str) -> Path:
        """A path from the site file, relative to the site file's folder."""
        path = Path(value)
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    def secret(self, ref: str) -> SecretStr:
        """Resolve a secret reference of this site."""
        return resolve(ref, self.base_dir)


def load_site(path: Path) -> LoadedSite:
    """Load and validate a site file; raise :class:`InputError` naming every problem.

    A path ending in ``#contingency`` loads the primary's site file and gives its contingency
    deployment's site (:mod:`securemode.fallback_site`).
    """
    if fallback_site.is_fallback_path(str(path)):
        return load_fallback(load_site(Path(fallback_site.primary_path(str(path)))))
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(source, [Problem(field="(file)", message=f"cannot read the site file: {exc.strerror}",
                                          fix="check the path")]) from None
    try:
        text = decode(data)
    except DocumentError as exc:
        raise InputError(source, [exc.problem]) from None
    return parse_site(text, path)


def load_fallback(primary: LoadedSite) -> LoadedSite:
    """The contingency deployment of ``primary``; InputError when its site file defines none."""
    plan = primary.site.contingency
    if plan is None:
        raise InputError(str(primary.path), [Problem(field="contingency", message="is not defined, so there is no "
                                                     "contingency deployment to build or check",
                                                     fix="add a contingency section (see the README)")])
    return LoadedSite(site=fallback_site.derive(primary.site, plan),
                      path=Path(fallback_site.fallback_path(str(primary.path))), warnings=primary.warnings,
                      primary=primary)


def parse_site(text: str, path: Path) -> LoadedSite:
    """Validate site-file text; ``path`` anchors relative references."""
    source = str(path)
    try:
        document = load_document(text)
    except DocumentError as exc:
        raise InputError(source, [exc.problem]) from None
    if not isinstance(document, dict):
        raise InputError(source, [Problem(field="(file)", message="the site file must be a YAML mapping",
                                          fix="start from the example site file in the README")])
    try:
        site = Site.model_validate(document)
    except ValidationError as exc:
        raise InputError(source, _problems(exc.errors())) from None
    problems = check_rules(site, path.parent)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        raise InputError(source, problems)
    return LoadedSite(site=site, path=path.resolve(), warnings=tuple(problems))


def _problems(errors: list[ErrorDetails]) -> list[Problem]:
    """One problem per field: a value that fits no branch of a union is one problem, not one per branch."""
    by_field: dict[str, list[ErrorDetails]] = {}
    for err in errors:
        by_field.setdefault(_field_path(err["loc"]), []).append(err)
    problems: list[Problem] = []
    for field, group in by_field.items():
        branches = [err for err in group if _is_union_branch(err["loc"])]
        if len(branches) > 1:
            problems.append(_union_problem(field, branches))
            group = [err for err in group if err not in branches]
        problems += [_problem(err) for err in group]
    return list(dict.fromkeys(problems))


def _is_union_branch(loc: tuple[int | str, ...]) -> bool:
    return bool(loc) and isinstance(loc[-1], str) and ("[" in loc[-1] or "(" in loc[-1])


def _union_problem(field: str, branches: list[ErrorDetails]) -> Problem:
    kinds = {err["type"] for err in branches}
    if kinds == {"ip_v4_address", "ip_v6_address"}:
        return Problem(field=field, message="is not a valid IPv4 or IPv6 address", fix=_fix_for("ip_any_address"))
    reasons = "; ".join(dict.fromkeys(_strip_input(err["msg"]) for err in branches))
    return Problem(field=field, message=f"fits none of the allowed forms ({reasons})", fix="correct the value")


def _problem(err: ErrorDetails) -> Problem:
    field = _field_path(err["loc"])
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    if kind == "missing":
        return Problem(field=field, message="is required", fix="add it")
    if kind == "extra_forbidden":
        return Problem(field=field, message="is not a known field", fix=_did_you_mean(err["loc"]))
    if kind == "string_pattern_mismatch" and str(ctx.get("pattern", "")).startswith("^(env:"):
        return Problem(field=field, message="must be a secret reference, not a value",
                       fix="use env:NAME, file:PATH or prefect-secret:NAME and keep the secret out of the file")
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return Problem(field=field, message=_strip_input(err["msg"]), fix="use a value inside the allowed range")
    return Problem(field=field, message=_strip_input(err["msg"]), fix=_fix_for(kind))


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in part or "(" in part:
            continue  # pydantic's union-branch labels: not a field
        else:
            out += f".{part}" if out else part
    return out or "(file)"


def _strip_input(msg: str) -> str:
    # pydantic messages never echo secrets, but keep them to one clean sentence.
    return msg.rstrip(".").replace("Value error, ", "")


def _fix_for(kind: str) -> str:
    fixes = {
        "int_parsing": "give a whole number",
        "int_type": "give a whole number",
        "bool_parsing": "use true or false",
        "enum": "use one of the listed values",
        "literal_error": "use one of the listed values",
        "ip_v4_address": "give an IPv4 address such as 192.0.2.10",
        "ip_any_address": "give an IPv4 or IPv6 address",
        "list_type": "give a list (YAML '- item' lines)",
        "dict_type": "give a mapping (YAML 'key: value' lines)",
        "string_type": "give a text value",
        "string_pattern_mismatch": "correct the format",
        "too_short": "add the missing entries",
        "value_error": "correct the value as described",
    }
    return fixes.get(kind, "correct the value")


def _did_you_mean(loc: tuple[int | str, ...]) -> str:
    name = str(loc[-1])
    model: type[BaseModel] | None = Site
    for part in loc[:-1]:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        model = _model_of(field.annotation) if field else None
    if model is not None:
        close = difflib.get_close_matches(name, list(model.model_fields), n=1)
        if close:
            return f"did you mean '{close[0]}'? Otherwise remove it"
    return "remove it or check its spelling"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
