"""URL → operation for the Management API, in Tastypie's order: resolve and method-check first
(404/405 even before authentication), then the caller's permissions, then the operation itself."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from securemode.infra.twin.api import tastypie
from securemode.infra.twin.api.commands import COMMANDS, Command, command_schema
from securemode.infra.twin.api.spec import Ctx, ResourceSpec
from securemode.infra.twin.errors import ApiError, error
from securemode.infra.twin.response import Response
from securemode.infra.twin.state.twin_state import TwinState

_PATH = re.compile(
    r"^/api/admin/(?P<api>configuration|status|command)/v1/(?:(?P<res>[a-z0-9_]+)/(?:(?P<key>[^/]+)/)?)?$"
)
READ_PERMISSION = {"configuration": "view_configuration", "status": "view_status"}


@dataclass(frozen=True)
class Route:
    """A resolved request: kind is root|schema|list|detail|command|command_schema."""

    kind: str
    method: str
    api: str
    spec: ResourceSpec | None = None
    key: str | None = None
    command: Command | None = None

    @property
    def permission(self) -> str | None:
        """The permission codename the operation needs beyond is_admin + use_api."""
        if self.kind in ("root", "schema", "command_schema"):
            return None
        if self.command is not None:
            return self.command.permission
        return READ_PERMISSION[self.api] if self.method == "GET" else "change_configuration"


class ApiRouter:
    def __init__(self, state: TwinState) -> None:
        self.state = state

    # resolution -------------------------------------------------------------------------------------
    def resolve(self, method: str, path: str) -> Route:
        command_schema_route = self.resolve_command_schema(method, path)
        if command_schema_route is not None:
            return command_schema_route
        match = _PATH.match(path)
        if not match:
            redirect = self.state.config.append_slash_redirect
            if redirect and not path.endswith("/") and _PATH.match(path + "/"):
                raise ApiError(301, None, {"Location": path + "/"})
            raise error(404, "Not found.")
        api, res, key = match.group("api"), match.group("res"), match.group("key")
        if api == "command":
            return self._resolve_command(method, res, key)
        if res is None:
            return self._allow(Route("root", method, api), ("GET",))
        spec = self.state.registry.get(api, res)
        if spec is None:
            raise error(404, "Not found.")
        if key == "schema":
            return self._allow(Route("schema", method, api, spec), ("GET",))
        if key is None:
            return self._allow(Route("list", method, api, spec), spec.list_methods)
        return self._allow(Route("detail", method, api, spec, key), spec.detail_methods)

    def _resolve_command(self, method: str, scope: str | None, action: str | None) -> Route:
        if scope != "platform":
            raise error(404, "Not found.")
        if action is None:
            return self._allow(Route("root", method, "command"), ("GET",))
        command = COMMANDS.get(action)
        if command is None:
            raise error(404, "Not found.")
        return self._allow(Route("command", method, "command", command=command), ("POST",))

    def resolve_command_schema(self, method: str, path: str) -> Route | None:
        match = re.fullmatch(r"/api/admin/command/v1/platform/([a-z_]+)/schema/", path)
        if not match or match.group(1) not in COMMANDS:
            return None
        return self._allow(Route("command_schema", method, "command", command=COMMANDS[match.group(1)]), ("GET",))

    @staticmethod
    def _allow(route: Route, allowed: tuple[str, ...]) -> Route:
        if route.method not in allowed:
            raise ApiError(405, None, {"Allow": ", ".join(allowed)})
        return route

    # execution --------------------------------------------------------------------------------------
    def execute(self, route: Route, query: dict[str, list[str]], body: bytes, path: str, user: str) -> Response:
        ctx = self.state.ctx(user)
        if route.kind == "root":
            return Response.json(200, self._root(route.api))
        if route.kind == "command_schema":
            assert route.command is not None
            return Response.json(200, command_schema(route.command))
        if route.kind == "command":
            assert route.command is not None
            return route.command.run(ctx, _json_object(body))
        spec = route.spec
        assert spec is not None
        if route.kind == "schema":
            return Response.json(200, tastypie.schema(spec, ctx.config.default_limit))
        if route.kind == "list":
            return self._list(ctx, spec, route.method, query, body, path)
        assert route.key is not None
        return self._detail(ctx, spec, route.method, route.key, body)

    def _root(self, api: str) -> dict[str, Any]:
        if api == "command":
            return {n: {"list_endpoint": c.uri, "schema": c.uri + "schema/"} for n, c in COMMANDS.items()}
        return {
            s.name: {"list_endpoint": s.list_uri, "schema": s.list_uri + "schema/"}
            for s in self.state.registry.in_api(api)
        }

    def _list(
        self, ctx: Ctx, spec: ResourceSpec, method: str, query: dict[str, list[str]], body: bytes, path: str
    ) -> Response:
        if method == "GET":
            return Response.json(200, tastypie.list_body(ctx, spec, query, path))
        if method == "POST":
            return self._create(ctx, spec, _json_object(body))
        with ctx.store.transaction():
            if method == "DELETE":
                for obj in ctx.store.all(spec.name):
                    self._delete(ctx, spec, obj)
                return Response.empty(ctx.config.delete_status)
            data = _json_object(body)
            items = data.get("objects")
            if not isinstance(items, list):
                raise error(400, "The request body must contain an 'objects' list.")
            if method == "PUT":
                for obj in ctx.store.all(spec.name):
                    self._delete(ctx, spec, obj)
                for item in items:
                    self._create(ctx, spec, item)
                return Response.empty(ctx.config.put_status)
            for item in items:  # bulk PATCH: update those with a resource_uri, create the rest
                uri = item.get("resource_uri") if isinstance(item, dict) else None
                if uri:
                    self._update(ctx, spec, tastypie.find(ctx, spec, _key_of(spec, uri)), item, True)
                else:
                    self._create(ctx, spec, item)
            for uri in data.get("deleted_objects") or []:
                self._delete(ctx, spec, tastypie.find(ctx, spec, _key_of(spec, str(uri))))
            return Response.empty(ctx.config.patch_status)

    def _detail(self, ctx: Ctx, spec: ResourceSpec, method: str, key: str, body: bytes) -> Response:
        if method == "POST":
            raise error(501, "Creating an object at a detail URI is not implemented.")
        with ctx.store.transaction():
            obj = tastypie.find(ctx, spec, key)
            if method == "GET":
                return Response.json(200, tastypie.render(ctx, spec, obj))
            if method == "DELETE":
                self._delete(ctx, spec, obj)
                return Response.empty(ctx.config.delete_status)
            partial = method == "PATCH"
            self._update(ctx, spec, obj, _json_object(body), partial)
            return Response.empty(ctx.config.patch_status if partial else ctx.config.put_status)

    # operations -------------------------------------------------------------------------------------
    def _create(self, ctx: Ctx, spec: ResourceSpec, data: Any) -> Response:
        with ctx.store.transaction():
            new = tastypie.write(ctx, spec, data, None, partial=False)
            new["_created"] = time.time()
            obj_id = ctx.store.insert(spec.name, new)
            obj = ctx.store.get(spec.name, obj_id) or {}
            created = spec.behaviour.after_create(ctx, obj)
        ctx.store.audit(ctx.user, "create", f"{spec.name} {obj_id}")
        headers = [("Location", spec.uri(obj.get(spec.key_field, obj_id)))]
        if created is None:
            return Response.empty(ctx.config.create_status, headers)
        if created.filename:
            headers.append(("Content-Disposition", f'attachment; filename="{created.filename}"'))
        return Response(ctx.config.create_status, created.body, created.content_type, headers)

    def _update(self, ctx: Ctx, spec: ResourceSpec, old: dict[str, Any], data: Any, partial: bool) -> None:
        new = tastypie.write(ctx, spec, data, old, partial)
        ctx.store.put(spec.name, old["id"], new)
        spec.behaviour.after_update(ctx, new, old)
        ctx.store.audit(ctx.user, "update", f"{spec.name} {old['id']}")

    def _delete(self, ctx: Ctx, spec: ResourceSpec, obj: dict[str, Any]) -> None:
        spec.behaviour.before_delete(ctx, obj)
        ctx.store.delete(spec.name, obj["id"])
        tastypie.detach(ctx, spec, obj["id"])
        ctx.store.audit(ctx.user, "delete", f"{spec.name} {obj['id']}")


def _json_object(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise error(400, "The request body is not valid JSON.") from None


def _key_of(spec: ResourceSpec, uri: str) -> str:
    match = re.fullmatch(re.escape(spec.list_uri) + r"([^/]+)/?", uri)
    if not match:
        raise error(400, f"Could not find the provided object via resource URI '{uri[:200]}'.")
    return match.group(1)
