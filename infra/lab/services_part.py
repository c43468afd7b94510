"""The real third-party services of the lab (infra/services launchers), each on its own address."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from securemode.infra.lab.manifest import Endpoint, Part
from securemode.infra.lab.plan import LabPlan, SiteNetwork
from securemode.infra.lab.processes import identify
from securemode.infra.pki.ca import LabCA
from securemode.infra.services import chrony, dns, ocsp, rsyslog, slapd
from securemode.infra.services.process import ServiceHandle

Starter = Callable[[], ServiceHandle]


def starters(plan: LabPlan, ca: LabCA, workdir: Path, ntp_keys: list[chrony.NtpKey]) -> dict[str, Starter]:
    """One start function per service part but DNS; each returns once its service answers."""
    p = plan.ports
    return {
        "slapd": lambda: slapd.start(workdir / "slapd", ca, plan.address("ldap"), p["ldap"], p["ldaps"],
                                     server_names=[f"ldap.{plan.domain}"]),
        "ntp1": lambda: chrony.start(workdir / "ntp1", plan.address("ntp1"), p["ntp"], keys=ntp_keys),
        "ntp2": lambda: chrony.start(workdir / "ntp2", plan.address("ntp2"), p["ntp"], keys=ntp_keys),
        "syslog": lambda: rsyslog.start(workdir / "syslog", ca, plan.address("syslog"), p["syslog_udp"],
                                        p["syslog_tcp"], p["syslog_tls"], server_names=[f"syslog.{plan.domain}"]),
        "ocsp": lambda: ocsp.start(workdir / "ocsp", ca.directory, plan.address("ocsp"), p["ocsp"]),
    }


def dns_starters(plan: LabPlan, workdir: Path, network: SiteNetwork) -> dict[str, Starter]:
    """The two DNS servers; they answer with the nodes' site addresses, so they start once those are known."""
    records = plan.dns_records(network)
    return {name: partial(dns.start, workdir / name, records, plan.address(name), plan.ports["dns"], zone=plan.domain)
            for name in ("dns1", "dns2")}


_PROTO = {"ocsp": "tcp", "ldap": "tcp", "ldaps": "tls", "ntp": "udp", "udp": "udp", "tcp": "tcp", "tls": "tls",
          "dns": "udp"}


def part_of(name: str, handle: ServiceHandle) -> Part:
    """The manifest record of a started service (public facts only)."""
    facts: dict[str, Any] = {"executable": handle.executable, "startup_s": round(handle.startup_s, 3)}
    if isinstance(handle, slapd.SlapdHandle):
        facts.update(base_dn=handle.base_dn, realm=handle.realm, bind_dn=handle.bind_dn, admin_dn=handle.admin_dn,
                     ca_file=str(handle.ca_file), ldapi_uri=handle.ldapi_uri,
                     users={r: {"uid": u.uid, "dn": u.dn, "upn": u.upn, "group_dn": u.group_dn}
                            for r, u in handle.users.items()},
                     groups=dict(handle.groups))
        socket_dir = _ldapi_dir(handle.ldapi_uri)
        facts["cleanup_dirs"] = [] if socket_dir == str(handle.workdir) else [socket_dir]
    elif isinstance(handle, chrony.ChronyHandle):
        facts.update(keys={str(k): v.algorithm for k, v in handle.keys.items()}, stratum=handle.stratum)
    elif isinstance(handle, rsyslog.RsyslogHandle):
        facts.update(received={t: str(path) for t, path in handle.received.items()}, ca_file=str(handle.ca_file))
    elif isinstance(handle, dns.DnsHandle):
        facts.update(zone=handle.zone, records=handle.records)
    return Part(
        name=name,
        kind=handle.name,
        process=identify(handle.pid, handle.executable),
        endpoints={k: Endpoint(h, port, _PROTO.get(k, "tcp")) for k, (h, port) in handle.endpoints.items()},
        workdir=str(handle.workdir),
        facts=facts,
    )


def _ldapi_dir(uri: str) -> str:
    """The short temporary directory holding slapd's ldapi socket (removed by ``down``)."""
    from urllib.parse import unquote

    return str(Path(unquote(uri.removeprefix("ldapi://"))).parent)
