"""Platform commands (POST only): certificate bundle import and a diagnostic snapshot."""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from securemode.infra.twin import pki
from securemode.infra.twin.api import tastypie
from securemode.infra.twin.api.spec import PREFIX, Ctx
from securemode.infra.twin.errors import FieldErrors
from securemode.infra.twin.response import Response


@dataclass(frozen=True)
class Command:
    name: str
    permission: str
    fields: dict[str, str]
    run: Callable[[Ctx, dict[str, Any]], Response]

    @property
    def uri(self) -> str:
        return f"{PREFIX}/command/v1/platform/{self.name}/"


def _success(ctx: Ctx, data: Any = None) -> Response:
    return Response.json(ctx.config.command_status, {"status": "success", "data": data})


def certificates_import(ctx: Ctx, body: dict[str, Any]) -> Response:
    """Split a PEM bundle: certificates with a matching key become TLS certificates, CA certificates
    become trusted CAs; an existing object with the same subject name is updated (guide wording)."""
    errors = FieldErrors()
    bundle = pki.split_pem(str(body.get("bundle") or ""))
    passphrase = body.get("private_key_passphrase") or None
    if not bundle.certificates:
        errors.add("bundle", "No PEM-formatted certificate found.")
        raise errors.to_api("certificates_import")
    try:
        keys = [pki.load_private_key(k, passphrase) for k in bundle.private_keys]
    except pki.PkiError as exc:
        errors.add("private_key_passphrase" if passphrase else "bundle", str(exc))
        raise errors.to_api("certificates_import") from None
    plan: list[tuple[str, dict[str, Any]]] = []
    for pem in bundle.certificates:
        try:
            cert = pki.load_certificate(pem)
        except pki.PkiError as exc:
            errors.add("bundle", str(exc))
            continue
        key = next((k for k in keys if pki.key_matches(cert, k)), None)
        if key is not None:
            chain = [c for c in bundle.certificates if c != pem and pki.is_ca(pki.load_certificate(c))]
            plan.append(
                (
                    "tls_certificate",
                    {
                        "certificate": "".join([pem, *chain]),
                        "private_key": pki.key_pem(key),
                        "parameters": "".join(bundle.parameters),
                    },
                )
            )
        elif pki.is_ca(cert):
            plan.append(("ca_certificate", {"certificate": pem}))
        else:
            errors.add("bundle", pki.KEY_PAIR_MISMATCH)
    if errors:
        raise errors.to_api("certificates_import")
    with ctx.store.transaction():
        for resource, data in plan:
            spec = ctx.registry.config(resource)
            subject = pki.describe(data["certificate"])["subject_name"]
            existing = next((o for o in ctx.store.all(resource) if o.get("subject_name") == subject), None)
            obj = tastypie.write(ctx, spec, data, existing, partial=existing is not None)
            if existing:
                ctx.store.put(resource, existing["id"], obj)
            else:
                ctx.store.insert(resource, obj)
    ctx.store.audit(ctx.user, "certificates_import", f"{len(plan)} certificate(s) imported")
    return _success(ctx)


def snapshot(ctx: Ctx, body: dict[str, Any]) -> Response:
    """A diagnostic snapshot: configuration without secrets, plus the administrator log."""
    config: dict[str, Any] = {}
    for spec in ctx.registry.in_api("configuration"):
        config[spec.name] = [tastypie.render(ctx, spec, o) for o in ctx.store.all(spec.name)]
    members = {
        "configuration.json": json.dumps(config, indent=1, default=str).encode(),
        "administrator.log": "".join(
            f"{e['ts']:.3f} {e['user']} {e['action']} {e['detail']}\n" for e in ctx.store.audit_events()
        ).encode(),
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), int(time.time())
            tar.addfile(info, io.BytesIO(data))
    ctx.store.audit(ctx.user, "snapshot", "diagnostic snapshot generated")
    name = time.strftime("diagnostic_snapshot_%y%m%d_%H%M%S.tgz")
    return Response(
        200, buf.getvalue(), "application/octet-stream", [("Content-Disposition", f'attachment; filename="{name}"')]
    )


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command(
            "certificates_import",
            "change_configuration",
            {"bundle": "string", "private_key_passphrase": "string"},
            certificates_import,
        ),
        Command(
            "snapshot",
            "generate_snapshot",
            {"limit": "integer", "end_limit": "integer", "include_diagnostic_metrics": "boolean"},
            snapshot,
        ),
    )
}


def command_schema(command: Command) -> dict[str, Any]:
    return {
        "allowed_detail_http_methods": [],
        "allowed_list_http_methods": ["post"],
        "fields": {
            n: {
                "type": t,
                "blank": True,
                "nullable": True,
                "readonly": False,
                "default": "",
                "help_text": "",
                "unique": False,
            }
            for n, t in command.fields.items()
        },
    }
