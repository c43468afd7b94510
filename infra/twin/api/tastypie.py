"""Generic Tastypie behaviour over a ResourceSpec: render, validate, list/filter/order/paginate, schema.

Relations are stored as ids, written as URIs, and read back as URIs or as nested objects per field,
reproducing the real API's asymmetry (reference §1.5).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from securemode.infra.twin.api.fields import Field, coerce
from securemode.infra.twin.api.spec import ALL, LOOKUPS, Ctx, ResourceSpec
from securemode.infra.twin.errors import ApiError, FieldErrors, error

RESERVED_PARAMS = {"limit", "offset", "order_by", "format", "username", "api_key"}


# reading ------------------------------------------------------------------------------------------
def render(ctx: Ctx, spec: ResourceSpec, obj: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, fld in spec.fields.items():
        if fld.write_only:
            continue
        value = obj.get(name, fld.default_value())
        if fld.kind == "related" and fld.related:
            target = ctx.registry.config(fld.related)
            if fld.many:
                ids = value or []
                if fld.nested and depth == 0:
                    objs = [ctx.store.get(target.name, i) for i in ids]
                    value = [render(ctx, target, o, depth + 1) for o in objs if o is not None]
                else:
                    value = [target.uri(i) for i in ids]
            else:
                value = target.uri(value) if value is not None else None
        out[name] = value
    out["id"] = obj["id"]
    out["resource_uri"] = spec.uri(obj.get(spec.key_field, obj["id"]))
    spec.behaviour.render(ctx, obj, out)
    return out


def objects(ctx: Ctx, spec: ResourceSpec) -> list[dict[str, Any]]:
    return spec.compute(ctx) if spec.compute else ctx.store.all(spec.name)


def find(ctx: Ctx, spec: ResourceSpec, key: str) -> dict[str, Any]:
    if spec.key_field == "id" and not spec.compute:
        obj = ctx.store.get(spec.name, int(key)) if key.isdigit() else None
    else:
        obj = next((o for o in objects(ctx, spec) if str(o.get(spec.key_field, o["id"])) == key), None)
    if obj is None:
        raise ApiError(404, {"error": f"No {spec.name} matches the given query."})
    return obj


# writing ------------------------------------------------------------------------------------------
def resolve(ctx: Ctx, fld: Field, value: Any) -> tuple[Any, str | None]:
    """Turn a written relation (URI, or a nested object carrying resource_uri/id) into stored ids."""
    assert fld.related is not None
    target = ctx.registry.config(fld.related)
    if fld.many:
        if not isinstance(value, list):
            return None, "Expected a list of resource URIs."
        ids: list[int] = []
        for item in value:
            obj_id, message = _resolve_one(ctx, target, item)
            if message:
                return None, message
            if obj_id is not None and obj_id not in ids:
                ids.append(obj_id)
        return ids, None
    if value is None or value == "":
        return (None, None) if fld.nullable else (None, "This field cannot be null.")
    return _resolve_one(ctx, target, value)


def _resolve_one(ctx: Ctx, target: ResourceSpec, item: Any) -> tuple[int | None, str | None]:
    if isinstance(item, dict):
        item = item.get("resource_uri") or (target.uri(item["id"]) if "id" in item else None)
    if not isinstance(item, str):
        return None, "Expected a resource URI."
    path = urlsplit(item).path
    match = re.fullmatch(re.escape(target.list_uri) + r"(\d+)/?", path)
    if not match or ctx.store.get(target.name, int(match.group(1))) is None:
        return None, f"Could not find the provided object via resource URI '{path}'."
    return int(match.group(1)), None


def write(ctx: Ctx, spec: ResourceSpec, body: Any, old: dict[str, Any] | None, partial: bool) -> dict[str, Any]:
    """Validate a create (old None), PUT (partial False) or PATCH body into the object to store."""
    if not isinstance(body, dict):
        raise error(400, "The request body must be a JSON object.")
    errors = FieldErrors()
    if partial and old is not None:
        new = dict(old)
    else:
        new = {k: v for k, v in (old or {}).items() if k.startswith("_") or k == "id"}
        for name, fld in spec.fields.items():
            if fld.readonly and old is not None:
                new[name] = old.get(name, fld.default_value())
            else:
                new[name] = fld.default_value()
    for name, value in body.items():
        written = spec.fields.get(name)
        if written is None:
            if ctx.config.reject_unknown_fields and name not in ("id", "resource_uri"):
                errors.add(name, "Unknown field.")
            continue
        if written.readonly:
            continue
        if written.kind == "related":
            stored, message = resolve(ctx, written, value)
        else:
            stored, message = coerce(name, written, value)
        if message:
            errors.add(name, message)
        else:
            new[name] = stored
    if not partial or old is None:
        for name, fld in spec.fields.items():
            if fld.required and name not in errors.errors and body.get(name) in (None, "", []):
                errors.add(name, "This field is required.")
    _check_unique(ctx, spec, new, errors)
    if not errors:
        try:
            spec.behaviour.prepare(ctx, new, old)
        except FieldErrors as exc:
            errors.errors.update(exc.errors)
    if errors:
        raise errors.to_api(spec.name)
    return new


def _check_unique(ctx: Ctx, spec: ResourceSpec, new: dict[str, Any], errors: FieldErrors) -> None:
    unique = [n for n, f in spec.fields.items() if f.unique and n not in errors.errors]
    if not unique:
        return
    for other in ctx.store.all(spec.name):
        if other["id"] == new.get("id"):
            continue
        for name in unique:
            value = new.get(name)
            if value not in (None, "") and other.get(name) == value and name not in errors.errors:
                label = name.replace("_", " ").capitalize()
                errors.add(name, f"{spec.label} with this {label} already exists.")


def detach(ctx: Ctx, spec: ResourceSpec, obj_id: int) -> None:
    """Remove references to a deleted object: to-many drop it, to-one become null."""
    for other in ctx.registry.in_api("configuration"):
        refs = [n for n, f in other.fields.items() if f.kind == "related" and f.related == spec.name]
        if not refs:
            continue
        for obj in ctx.store.all(other.name):
            changed = False
            for name in refs:
                value = obj.get(name)
                if isinstance(value, list) and obj_id in value:
                    obj[name] = [v for v in value if v != obj_id]
                    changed = True
                elif value == obj_id:
                    obj[name] = None
                    changed = True
            if changed:
                ctx.store.put(other.name, obj["id"], obj)


# listing ------------------------------------------------------------------------------------------
def list_body(ctx: Ctx, spec: ResourceSpec, query: dict[str, list[str]], path: str) -> dict[str, Any]:
    items = objects(ctx, spec)
    items = apply_filters(ctx, spec, items, query)
    items = apply_ordering(spec, items, query.get("order_by", []))
    limit = _limit(ctx, query)
    offset = _int_param(query, "offset", 0, "Invalid offset '{}' provided. Please provide an integer.")
    page = items[offset : offset + limit] if limit else items[offset:]
    total = len(items)
    base = {k: v for k, v in query.items() if k not in ("limit", "offset")}

    def link(new_offset: int) -> str:
        params = [(k, x) for k, vals in base.items() for x in vals]
        params += [("limit", str(limit)), ("offset", str(new_offset))]
        return f"{path}?{urlencode(params)}"

    nxt = link(offset + limit) if limit and offset + limit < total else None
    prev = link(max(offset - limit, 0)) if limit and offset > 0 else None
    return {
        "meta": {"limit": limit, "next": nxt, "offset": offset, "previous": prev, "total_count": total},
        "objects": [render(ctx, spec, o) for o in page],
    }


def _int_param(query: dict[str, list[str]], name: str, default: int, message: str) -> int:
    raw = query.get(name, [None])[-1]
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise error(400, message.format(raw[:40])) from None
    if value < 0:
        raise error(400, message.format(raw[:40]))
    return value


def _limit(ctx: Ctx, query: dict[str, list[str]]) -> int:
    limit = _int_param(
        query, "limit", ctx.config.default_limit, "Invalid limit '{}' provided. Please provide a positive integer."
    )
    max_limit = ctx.config.max_limit
    if max_limit and (limit == 0 or limit > max_limit):
        return max_limit
    return limit


def apply_filters(
    ctx: Ctx, spec: ResourceSpec, items: list[dict[str, Any]], query: dict[str, list[str]]
) -> list[dict[str, Any]]:
    for param, values in query.items():
        if param in RESERVED_PARAMS:
            continue
        name, _, lookup = param.partition("__")
        lookup = lookup or "exact"
        fld = spec.fields.get(name) if name != "id" else Field("integer")
        if fld is None or fld.write_only:
            continue  # Tastypie silently ignores unknown fields
        allowed = spec.filtering.get(name)
        if allowed is None:
            raise error(400, f"The '{name}' field does not allow filtering.")
        if lookup not in LOOKUPS or (allowed != ALL and lookup not in allowed):
            raise error(400, f"'{lookup}' is not an allowed filter on the '{name}' field.")
        wanted = values[-1]
        items = [o for o in items if _matches(ctx, spec, fld, o, name, lookup, wanted)]
    return items


def _stored_for_filter(ctx: Ctx, spec: ResourceSpec, fld: Field, obj: dict[str, Any], name: str) -> Any:
    if name == "id":
        return obj["id"]
    value = obj.get(name, fld.default_value())
    if fld.kind == "related" and fld.related and not fld.many:
        return ctx.registry.config(fld.related).uri(value) if value is not None else None
    return value


def _coerce_query(fld: Field, raw: str) -> Any:
    if raw in ("nil", "none", "None"):
        return None
    if fld.kind == "boolean":
        return raw.lower() in ("true", "1", "yes")
    if fld.kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise error(400, f"Invalid value for an integer filter: '{raw[:40]}'.") from None
    return raw


def _matches(ctx: Ctx, spec: ResourceSpec, fld: Field, obj: dict[str, Any], name: str, lookup: str, raw: str) -> bool:
    value = _stored_for_filter(ctx, spec, fld, obj, name)
    if fld.kind == "related" and not fld.many and raw.isdigit() and fld.related:
        raw = ctx.registry.config(fld.related).uri(raw)
    if lookup == "isnull":
        return (value in (None, "")) == (raw.lower() in ("true", "1"))
    if lookup == "in":
        return any(value == _coerce_query(fld, part) for part in raw.split(","))
    if lookup in ("lt", "lte", "gt", "gte"):
        wanted = _coerce_query(fld, raw)
        if value is None or wanted is None:
            return False
        try:
            return bool(
                {"lt": value < wanted, "lte": value <= wanted, "gt": value > wanted, "gte": value >= wanted}[lookup]
            )
        except TypeError:
            return False
    if lookup == "exact":
        return bool(value == _coerce_query(fld, raw))
    text, pattern = ("" if value is None else str(value)), raw
    if lookup.startswith("i"):
        text, pattern, lookup = text.lower(), pattern.lower(), lookup[1:]
    if lookup == "exact":
        return text == pattern
    if lookup == "contains":
        return pattern in text
    if lookup == "startswith":
        return text.startswith(pattern)
    if lookup == "endswith":
        return text.endswith(pattern)
    try:
        return re.search(pattern, text) is not None  # regex
    except re.error:
        raise error(400, "Invalid regular expression.") from None


def apply_ordering(spec: ResourceSpec, items: list[dict[str, Any]], order_by: list[str]) -> list[dict[str, Any]]:
    for field_expr in reversed(order_by):
        name = field_expr.lstrip("-")
        if name not in spec.ordering and name != "id":
            raise error(400, f"No matching '{name[:40]}' field for ordering on.")
        items = sorted(items, key=_sort_key(name), reverse=field_expr.startswith("-"))
    return items


def _sort_key(name: str) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    """Nulls last; strings compare case-sensitively like the database would."""

    def key(obj: dict[str, Any]) -> tuple[bool, Any]:
        value = obj.get(name)
        return (value is None, value if value is not None else 0)

    return key


# schema -------------------------------------------------------------------------------------------
def schema(spec: ResourceSpec, config_default_limit: int) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, fld in spec.fields.items():
        entry: dict[str, Any] = {
            "blank": fld.blank and not fld.required,
            "default": fld.default if not fld.write_only else "",
            "help_text": fld.help_text or name.replace("_", " ").capitalize() + ".",
            "nullable": fld.nullable,
            "readonly": fld.readonly,
            "type": fld.kind,
            "unique": fld.unique,
        }
        if fld.kind == "related":
            entry["related_type"] = "to_many" if fld.many else "to_one"
        if fld.choices:
            entry["valid_choices"] = list(fld.choices)
        fields[name] = entry
    for name, kind in (("id", "integer"), ("resource_uri", "string")):
        fields[name] = {
            "blank": False,
            "default": "",
            "help_text": "",
            "nullable": False,
            "readonly": True,
            "type": kind,
            "unique": name == "id",
        }
    return {
        "allowed_detail_http_methods": [m.lower() for m in spec.detail_methods],
        "allowed_list_http_methods": [m.lower() for m in spec.list_methods],
        "default_format": "application/json",
        "default_limit": config_default_limit,
        "fields": fields,
        "filtering": spec.filtering,
        "ordering": list(spec.ordering),
    }
