"""The twin's state behind one facade: the API context, the console settings, and the read interface
node processes use (SNMP/SIP/syslog twins follow the Management Node's configuration through it).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from securemode.infra.twin.api import tastypie
from securemode.infra.twin.api.resources import build_registry
from securemode.infra.twin.api.spec import Ctx
from securemode.infra.twin.config import TwinConfig
from securemode.infra.twin.passwords import make_password
from securemode.infra.twin.state.seed import seed
from securemode.infra.twin.state.settings import InstallWizardAnswers, SecuritySettings
from securemode.infra.twin.state.store import Store

DB_NAME = "twin.sqlite3"


class TwinState:
    """Open (and on first use seed) the state folder; safe to share between threads."""

    def __init__(self, state_dir: Path | str, config: TwinConfig | None = None, readonly: bool = False) -> None:
        self.state_dir = Path(state_dir)
        self.config = config or TwinConfig()
        if not readonly:
            self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.store = Store(self.state_dir / DB_NAME, readonly=readonly)
        self.registry = build_registry(self.config)

    def close(self) -> None:
        self.store.close()

    def ctx(self, user: str = "system") -> Ctx:
        return Ctx(self.store, self.config, self.registry, user)

    # lifecycle --------------------------------------------------------------------------------------
    @property
    def seeded(self) -> bool:
        return bool(self.store.get_kv("seeded"))

    def seed(self, answers: InstallWizardAnswers) -> None:
        """First boot: the installation wizard's answers become the node's initial configuration."""
        seed(self.ctx(), answers)

    @staticmethod
    def answers(address: str, admin_password: str, iterations: int, **kw: Any) -> InstallWizardAnswers:
        """Installation-wizard answers with the web password hashed the way the node stores it."""
        return InstallWizardAnswers(
            address=address, web_admin_password_hash=make_password(admin_password, iterations), **kw
        )

    # console-side settings (part 2 writes these) --------------------------------------------------------
    def security_settings(self) -> SecuritySettings:
        return SecuritySettings.from_dict(self.store.get_kv("security_settings") or {})

    def set_security_settings(self, settings: SecuritySettings) -> None:
        self.store.set_kv("security_settings", settings.to_dict())
        self.store.audit("console", "securitywizard", "security settings changed")

    def install_wizard(self) -> InstallWizardAnswers:
        return InstallWizardAnswers.from_dict(self.store.get_kv("install_wizard") or {})

    def set_install_wizard(self, answers: InstallWizardAnswers) -> None:
        """Re-run of the installation wizard: records answers and the opt-ins they control."""
        with self.store.transaction():
            self.store.set_kv("install_wizard", answers.to_dict())
            glob = self.store.get("global", 1) or {}
            glob.update(
                {
                    "error_reporting_enabled": answers.incident_reporting,
                    "contact_email_address": answers.contact_email_address,
                    "enable_analytics": answers.send_statistics,
                }
            )
            self.store.put("global", 1, glob)
        self.store.audit("console", "installwizard", "installation wizard answers changed")

    # read interface for node processes ------------------------------------------------------------------
    def _render(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        return tastypie.render(self.ctx(), self.registry.config(resource), obj)

    def global_settings(self) -> dict[str, Any]:
        return self._render("global", self.store.get("global", 1) or {"id": 1})

    def authentication(self) -> dict[str, Any]:
        """Stored authentication settings including the bind password (internal use only)."""
        return dict(self.store.get("authentication", 1) or {})

    def management_vm(self) -> dict[str, Any]:
        """The (primary) Management Node as the API renders it, DNS/NTP/syslog nested."""
        nodes = self.store.all("management_vm")
        return self._render("management_vm", nodes[0]) if nodes else {}

    def worker_vms(self) -> list[dict[str, Any]]:
        return [self._render("worker_vm", w) for w in self.store.all("worker_vm")]

    def node_config(self, name: str) -> dict[str, Any] | None:
        """Everything a node process needs, secrets included (SNMP passwords, NTP keys):
        the stored node plus its location's servers, or the Management Node's own lists."""
        for resource in ("management_vm", "worker_vm"):
            for obj in self.store.all(resource):
                if obj.get("name") == name or obj.get("hostname") == name:
                    return self._with_servers(resource, obj)
        return None

    def _with_servers(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        out = dict(obj)
        out["kind"] = resource
        source = obj
        if resource == "worker_vm" and obj.get("system_location"):
            source = self.store.get("system_location", obj["system_location"]) or {}
            out["location"] = source
        for key, res in (
            ("dns_servers", "dns_server"),
            ("ntp_servers", "ntp_server"),
            ("syslog_servers", "syslog_server"),
        ):
            out[key] = [o for o in (self.store.get(res, i) for i in source.get(key, [])) if o]
        out["tls"] = self.tls_identity(obj)
        return out

    def tls_identity(self, node: dict[str, Any]) -> tuple[str, str] | None:
        """(certificate chain PEM, private key PEM) assigned to a node, or None."""
        cert_id = node.get("tls_certificate")
        cert = self.store.get("tls_certificate", cert_id) if cert_id else None
        return (cert["certificate"], cert["private_key"]) if cert else None

    def trusted_ca_pem(self) -> str:
        return "".join(c["certificate"] for c in self.store.all("ca_certificate"))

    def audit_events(self, after_seq: int = 0) -> list[dict[str, Any]]:
        return self.store.audit_events(after_seq)

    # status inputs ----------------------------------------------------------------------------------
    def report_node_status(self, name: str, **fields: Any) -> None:
        with self.store.transaction():
            reports = self.store.get_kv("node_status") or {}
            reports.setdefault(name, {}).update(fields)
            self.store.set_kv("node_status", reports)

    def raise_alarm(self, name: str, details: str, level: str = "error", node: str = "") -> int:
        with self.store.transaction():
            alarms = self.store.get_kv("alarms") or []
            alarm_id = max((a["id"] for a in alarms), default=0) + 1
            alarms.append(
                {
                    "id": alarm_id,
                    "identifier": uuid.uuid4().int % 100000,
                    "name": name,
                    "level": level,
                    "details": details,
                    "instance": "",
                    "node": node,
                    "acknowledged": False,
                    "time_raised": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
                }
            )
            self.store.set_kv("alarms", alarms)
        return alarm_id

    def clear_alarm(self, alarm_id: int) -> None:
        with self.store.transaction():
            alarms = [a for a in self.store.get_kv("alarms") or [] if a["id"] != alarm_id]
            self.store.set_kv("alarms", alarms)
