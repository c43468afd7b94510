"""Global settings, the Management Node, Conferencing Nodes and system locations."""

from __future__ import annotations

from typing import Any

from securemode.infra.twin.api import fields as f
from securemode.infra.twin.api.deployment import deployment_file
from securemode.infra.twin.api.spec import ALL, SINGLETON_DETAIL, SINGLETON_LIST, Behaviour, Created, Ctx, ResourceSpec
from securemode.infra.twin.config import TwinConfig
from securemode.infra.twin.errors import FieldErrors, error

ENABLE_SSH = ("GLOBAL", "OFF", "ON")
SNMP_MODES = ("DISABLED", "STANDARD", "AUTHPRIV")


def global_fields() -> dict[str, f.Field]:
    return {
        "enable_sip": f.boolean(True),
        "enable_sip_udp": f.boolean(False),
        "enable_h323": f.boolean(True),
        "enable_webrtc": f.boolean(True),
        "enable_rtmp": f.boolean(True),
        "enable_chat": f.boolean(True),
        "enable_dialout": f.boolean(True),
        "enable_application_api": f.boolean(True),
        "management_qos": f.integer(0, 63, 0, nullable=True),
        "enable_ssh": f.boolean(True),
        "signalling_ports_start": f.integer(10000, 49999, 33000),
        "signalling_ports_end": f.integer(10000, 49999, 39999),
        "media_ports_start": f.integer(10000, 49999, 40000),
        "media_ports_end": f.integer(10000, 49999, 49999),
        "ocsp_state": f.choice(("OFF", "ON", "OVERRIDE"), "OFF"),
        "ocsp_responder_url": f.string(255),
        "sip_tls_cert_verify_mode": f.choice(("OFF", "ON"), "OFF"),
        "legacy_api_http": f.boolean(False),
        "legacy_api_username": f.string(100),
        "legacy_api_password": f.string(100, write_only=True),
        "logon_banner": f.string(4096),
        "management_session_timeout": f.integer(5, 1440, 30),
        "session_timeout_enabled": f.boolean(True),
        "error_reporting_enabled": f.boolean(False),
        "error_reporting_url": f.string(255, "https://acr.pexip.com"),
        "enable_analytics": f.boolean(False),
        "contact_email_address": f.string(100),
        "crypto_mode": f.choice(("on", "besteffort", "off"), "besteffort"),
        "bdpm_max_pin_failures_per_window": f.integer(5, 200, 20),
        "bdpm_max_scan_attempts_per_window": f.integer(5, 200, 20),
        "bdpm_pin_checks_enabled": f.boolean(True),
        "bdpm_scan_quarantine_enabled": f.boolean(True),
        "guests_only_timeout": f.integer(0, 86400, 60),
        "pin_entry_timeout": f.integer(30, 86400, 120),
        "waiting_for_chair_timeout": f.integer(0, 86400, 900),
        "max_pixels_per_second": f.choice(("sd", "hd", "fullhd"), "hd"),
        "max_presentation_bandwidth_ratio": f.integer(25, 75, 75),
        "min_pin_length": f.integer(4, 20, 6),
        "max_callrate_in": f.integer(128, 8192, None, nullable=True),
        "max_callrate_out": f.integer(128, 8192, None, nullable=True),
        "local_mssip_domain": f.string(255),
        "deployment_uuid": f.readonly(),
    }


class GlobalBehaviour(Behaviour):
    def prepare(self, ctx: Ctx, new: dict[str, Any], old: dict[str, Any] | None) -> None:
        errors = FieldErrors()
        for kind in ("signalling", "media"):
            start, end = new[f"{kind}_ports_start"], new[f"{kind}_ports_end"]
            if end < start:
                errors.add(f"{kind}_ports_end", "The end of the range must not be below its start.")
        if new["media_ports_end"] - new["media_ports_start"] + 1 < 100:
            errors.add("media_ports_end", "The media port range must contain at least 100 ports.")
        if new["ocsp_state"] == "OVERRIDE" and not new["ocsp_responder_url"]:
            errors.add("ocsp_responder_url", "An OCSP responder URL is required when OCSP state is Override.")
        if new["error_reporting_enabled"] and not new["contact_email_address"]:
            errors.add("contact_email_address", "A contact email address is required for incident reporting.")
        if errors:
            raise errors


def _node_common() -> dict[str, f.Field]:
    """Fields shared by management_vm and worker_vm."""
    return {
        "description": f.string(250),
        "alternative_fqdn": f.string(255),
        "ipv6_address": f.string(255, check=f.optional_ipv6),
        "ipv6_gateway": f.string(255, check=f.optional_ipv6),
        "static_nat_address": f.string(255, check=f.ip_any),
        "enable_ssh": f.choice(ENABLE_SSH, "GLOBAL"),
        "ssh_authorized_keys_use_cloud": f.boolean(True),
        "tls_certificate": f.to_one("tls_certificate"),
        "tls_client_certificate": f.to_one("tls_certificate"),
        "snmp_mode": f.choice(SNMP_MODES, "DISABLED"),
        "snmp_community": f.string(16, "public"),
        "snmp_username": f.string(100),
        "snmp_authentication_password": f.string(100, write_only=True, min_length=8),
        "snmp_privacy_password": f.string(100, write_only=True, min_length=8),
        "snmp_system_contact": f.string(70, "admin@domain.com"),
        "snmp_system_location": f.string(70, "Virtual machine"),
        "static_routes": f.to_many("static_route", nested=True),
    }


class NodeBehaviour(Behaviour):
    """SNMPv3 needs its credentials; the checks apply to both node kinds."""

    def prepare(self, ctx: Ctx, new: dict[str, Any], old: dict[str, Any] | None) -> None:
        errors = FieldErrors()
        if new.get("snmp_mode") == "AUTHPRIV":
            for name in ("snmp_username", "snmp_authentication_password", "snmp_privacy_password"):
                if not new.get(name):
                    errors.add(name, "This field is required when SNMP mode is SNMPv3 read-only.")
        if errors:
            raise errors


def management_vm(config: TwinConfig) -> ResourceSpec:
    flds = {
        "name": f.string(32, required=True, blank=False, unique=True),
        # set by the installation wizard; "must redeploy to change" [V TFINF]
        "address": f.readonly(),
        "netmask": f.readonly(),
        "gateway": f.readonly(),
        "hostname": f.readonly(),
        "domain": f.readonly(),
        "mtu": f.integer(512, 1500, 1500),
        **_node_common(),
        "dns_servers": f.to_many("dns_server", nested=True),
        "ntp_servers": f.to_many("ntp_server", nested=True),
        "syslog_servers": f.to_many("syslog_server", nested=True),
        "event_sinks": f.to_many("event_sink", nested=True),
        "http_proxy": f.to_one("http_proxy"),
        "snmp_network_management_system": f.to_one("snmp_network_management_system"),
        "secondary_config_passphrase": f.string(100, write_only=True),
        "initializing": f.readonly("boolean", False),
        "primary": f.readonly("boolean", True),
    }
    return ResourceSpec(
        "management_vm",
        flds,
        filtering={"name": ALL, "address": ALL, "hostname": ALL},
        ordering=("name",),
        list_methods=("GET", "POST", "DELETE"),
        detail_methods=("GET", "POST", "DELETE", "PATCH"),
        verbose_name="Management node",
        behaviour=NodeBehaviour(),
    )


class WorkerBehaviour(NodeBehaviour):
    def after_create(self, ctx: Ctx, obj: dict[str, Any]) -> Created | None:
        return deployment_file(ctx, obj)


def worker_vm(config: TwinConfig) -> ResourceSpec:
    flds = {
        "name": f.string(32, required=True, blank=False, unique=True),
        "hostname": f.string(63, required=True, blank=False, unique=True, check=f.hostname_label),
        "domain": f.string(192, required=True, blank=False),
        "address": f.string(255, required=True, blank=False, unique=True, check=f.ipv4),
        "netmask": f.string(255, required=True, blank=False, check=f.netmask),
        "gateway": f.string(255, required=True, blank=False, check=f.ipv4),
        "secondary_address": f.string(255, check=f.ipv4),
        "secondary_netmask": f.string(255, check=f.netmask),
        "system_location": f.to_one("system_location", nullable=False, required=True),
        "password": f.string(255, write_only=True, required=True),
        "node_type": f.choice(("CONFERENCING", "PROXYING"), "CONFERENCING"),
        "transcoding": f.boolean(True),
        "deployment_type": f.choice(
            (config.provision_only_type, *config.ova_deployment_types), config.provision_only_type
        ),
        "vm_cpu_count": f.integer(2, 128, 4),
        "vm_system_memory": f.integer(2000, 64000, 4096),
        "enable_distributed_database": f.boolean(True),
        "maintenance_mode": f.boolean(False),
        "maintenance_mode_reason": f.string(250),
        "media_priority_weight": f.integer(0, 100, 0),
        **_node_common(),
        "cloud_bursting": f.readonly("boolean", False),
        "managed": f.readonly("boolean", False),
    }
    return ResourceSpec(
        "worker_vm",
        flds,
        filtering={
            "name": ALL,
            "hostname": ALL,
            "address": ALL,
            "node_type": ALL,
            "system_location": ALL,
            "maintenance_mode": ALL,
        },
        ordering=("name", "hostname", "address"),
        verbose_name="Conferencing node",
        behaviour=WorkerBehaviour(),
    )


class LocationBehaviour(Behaviour):
    def before_delete(self, ctx: Ctx, obj: dict[str, Any]) -> None:
        users = [w["name"] for w in ctx.store.all("worker_vm") if w.get("system_location") == obj["id"]]
        if users:
            raise error(400, f"Cannot delete the location; it is in use by Conferencing Nodes: {', '.join(users)}")


def system_location(config: TwinConfig) -> ResourceSpec:
    flds = {
        "name": f.string(250, required=True, blank=False, unique=True),
        "description": f.string(250),
        "mtu": f.integer(512, 1500, 1500),
        "media_qos": f.integer(0, 63, 0, nullable=True),
        "signalling_qos": f.integer(0, 63, 0, nullable=True),
        "local_mssip_domain": f.string(255),
        "use_relay_candidates_only": f.boolean(False),
        "bdpm_pin_checks_enabled": f.choice(ENABLE_SSH, "GLOBAL"),
        "bdpm_scan_quarantine_enabled": f.choice(ENABLE_SSH, "GLOBAL"),
        "dns_servers": f.to_many("dns_server", nested=True),
        "ntp_servers": f.to_many("ntp_server", nested=True),
        "syslog_servers": f.to_many("syslog_server", nested=True),
        "event_sinks": f.to_many("event_sink", nested=True),
        "http_proxy": f.to_one("http_proxy"),
        "snmp_network_management_system": f.to_one("snmp_network_management_system"),
        "overflow_location1": f.to_one("system_location"),
        "overflow_location2": f.to_one("system_location"),
        "transcoding_location": f.to_one("system_location"),
    }
    return ResourceSpec(
        "system_location",
        flds,
        filtering={"name": ALL, "description": ALL, "mtu": ALL},
        ordering=("name", "mtu"),
        verbose_name="System location",
        behaviour=LocationBehaviour(),
    )


def specs(config: TwinConfig) -> list[ResourceSpec]:
    return [
        ResourceSpec(
            "global",
            global_fields(),
            list_methods=SINGLETON_LIST,
            detail_methods=SINGLETON_DETAIL,
            verbose_name="Global settings",
            behaviour=GlobalBehaviour(),
        ),
        management_vm(config),
        worker_vm(config),
        system_location(config),
    ]
