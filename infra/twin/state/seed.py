"""Fresh-node state: what a Management Node holds right after the installation wizard."""

from __future__ import annotations

import uuid

from securemode.infra.twin import pki
from securemode.infra.twin.api import tastypie
from securemode.infra.twin.api.spec import Ctx
from securemode.infra.twin.state.settings import InstallWizardAnswers, SecuritySettings


def _defaults(ctx: Ctx, resource: str) -> dict[str, object]:
    spec = ctx.registry.config(resource)
    return {name: fld.default_value() for name, fld in spec.fields.items()}


def seed(ctx: Ctx, answers: InstallWizardAnswers) -> None:
    """Write every singleton, the permission table, built-in roles and the self-signed certificate."""
    store = ctx.store
    with store.transaction():
        store.put(
            "global",
            1,
            {
                **_defaults(ctx, "global"),
                "deployment_uuid": str(uuid.uuid4()),
                "error_reporting_enabled": answers.incident_reporting,
                "contact_email_address": answers.contact_email_address,
                "enable_analytics": answers.send_statistics,
            },
        )
        store.put("authentication", 1, _defaults(ctx, "authentication"))
        codename_ids: dict[str, int] = {}
        for perm in ctx.config.permissions:
            codename_ids[perm.codename] = store.insert("permission", {"name": perm.name, "codename": perm.codename})
        for role_name, codenames in ctx.config.builtin_roles:
            store.insert("role", {"name": role_name, "permissions": [codename_ids[c] for c in codenames]})
        fqdn = f"{answers.hostname}.{answers.domain}".strip(".")
        cert_pem, key_pem = pki.self_signed(fqdn, [answers.hostname, answers.address], ctx.config.self_signed_key_bits)
        cert = tastypie.write(
            ctx,
            ctx.registry.config("tls_certificate"),
            {"certificate": cert_pem, "private_key": key_pem},
            None,
            partial=False,
        )
        cert_id = store.insert("tls_certificate", cert)
        dns_ids = [store.insert("dns_server", {"address": a, "description": ""}) for a in answers.dns_servers]
        ntp_ids = [
            store.insert("ntp_server", {"address": a, "description": "", "key_id": None, "key": ""})
            for a in answers.ntp_servers
        ]
        mgr = {
            **_defaults(ctx, "management_vm"),
            "name": fqdn[:32],
            "address": answers.address,
            "netmask": answers.netmask,
            "gateway": answers.gateway,
            "hostname": answers.hostname,
            "domain": answers.domain,
            "tls_certificate": cert_id,
            "dns_servers": dns_ids,
            "ntp_servers": ntp_ids,
        }
        store.insert("management_vm", mgr)
        store.set_kv("install_wizard", answers.updated(completed=True).to_dict())
        store.set_kv("security_settings", SecuritySettings().to_dict())
        store.set_kv("seeded", True)
