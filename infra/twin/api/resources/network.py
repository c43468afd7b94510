"""Network services the nodes use: DNS, NTP (with write-only keys), syslog, SNMP NMS, routes, proxies."""

from __future__ import annotations

from securemode.infra.twin.api import fields as f
from securemode.infra.twin.api.spec import ALL, ResourceSpec
from securemode.infra.twin.config import TwinConfig

_ADDR = {"address": ALL, "description": ALL, "id": ALL}


def specs(config: TwinConfig) -> list[ResourceSpec]:
    return [
        ResourceSpec(
            "dns_server",
            {
                "address": f.string(255, required=True, blank=False, check=f.ip_any),
                "description": f.string(250),
            },
            filtering=_ADDR,
            ordering=("address", "description"),
            verbose_name="DNS server",
        ),
        ResourceSpec(
            "ntp_server",
            {
                "address": f.string(255, required=True, blank=False, check=f.host_or_ip),
                "description": f.string(250),
                "key_id": f.integer(1, 65535, None, nullable=True),
                # [I] stored hashed on the real node, so never returned
                "key": f.string(100, write_only=True),
            },
            filtering=_ADDR,
            ordering=("address", "description"),
            verbose_name="NTP server",
        ),
        ResourceSpec(
            "syslog_server",
            {
                "address": f.string(255, required=True, blank=False, check=f.host_or_ip),
                "description": f.string(250),
                "port": f.integer(1, 65535, 514),
                "transport": f.choice(("udp", "tcp", "tls"), "udp"),
                "audit_log": f.boolean(False),
                "support_log": f.boolean(False),
                "web_log": f.boolean(False),
                "syslog_log": f.boolean(False),
            },
            filtering={**_ADDR, "port": ALL, "transport": ALL},
            ordering=("address", "port"),
            verbose_name="Syslog server",
        ),
        ResourceSpec(
            "snmp_network_management_system",
            {
                "name": f.string(250, required=True, blank=False, unique=True),
                "description": f.string(250),
                "address": f.string(255, required=True, blank=False, check=f.host_or_ip),
                "port": f.integer(1, 65535, 161),
                "snmp_trap_community": f.string(16, "public"),
            },
            filtering={"name": ALL, "address": ALL},
            ordering=("name",),
            verbose_name="SNMP network management system",
        ),
        ResourceSpec(
            "static_route",
            {
                "name": f.string(32, required=True, blank=False, unique=True),
                "address": f.string(255, required=True, blank=False, check=f.ip_any),
                "prefix": f.integer(0, 128, 32),
                "gateway": f.string(255, required=True, blank=False, check=f.ip_any),
            },
            filtering={"name": ALL, "address": ALL},
            ordering=("name",),
        ),
        ResourceSpec(
            "http_proxy",
            {
                "name": f.string(250, required=True, blank=False, unique=True),
                "address": f.string(255, required=True, blank=False, check=f.host_or_ip),
                "port": f.integer(1, 65535, 8080),
                "protocol": f.choice(("http",), "http"),
                "username": f.string(100),
                "password": f.string(100, write_only=True),
            },
            filtering={"name": ALL},
            ordering=("name",),
            verbose_name="HTTP proxy",
        ),
        ResourceSpec(
            "event_sink",
            {
                "name": f.string(250, required=True, blank=False, unique=True),
                "description": f.string(250),
                "url": f.string(255, required=True, blank=False),
                "username": f.string(100),
                "password": f.string(100, write_only=True),
                "version": f.integer(1, 2, 1),
            },
            filtering={"name": ALL},
            ordering=("name",),
        ),
    ]
