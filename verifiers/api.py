"""API read-back: what the Management Node reports now, on a fresh session, for every setting the
``pki`` and ``platform`` stages apply — one Result per control and target.

The session is opened here (never the tasks' one) and only ever reads. When the node cannot be read
at all, every expected result is ERROR ("could not check"), never a pass or a fail. Write-only
values (NTP keys, SNMP passwords) cannot be read back; their read-back checks what is readable
(``key_id``, ``snmp_mode``, user name) and the behavioural verifiers prove the secrets work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from securemode.pexip.certificates import read_ca_files, san_names, split_pem
from securemode.pexip.client import ManagementApi, config_uri
from securemode.pexip.connect import API_PORT, management_api
from securemode.pexip.errors import TransientApiError, TrustError
from securemode.results import JsonValue, Probe, Result, Status, probe
from securemode.site import NodeCommon, Site
from securemode.site_loader import LoadedSite
from securemode.verifiers import api_expected as expect


class ApiReader:
    """A read-only, caching view of the Management API for one verification run."""

    def __init__(self, opener: Callable[[], ManagementApi]) -> None:
        self._opener = opener
        self._api: ManagementApi | None = None
        self._failure: str | None = None
        self._cache: dict[str, Any] = {}

    def _session(self) -> ManagementApi:
        if self._failure is not None:
            raise RuntimeError(self._failure)
        if self._api is None:
            try:
                self._api = self._opener()
            except Exception as exc:
                self._failure = f"cannot open a Management API session: {exc}"
                raise RuntimeError(self._failure) from None
        return self._api

    def _fetch(self, key: str, fetch: Callable[[ManagementApi], Any]) -> Any:
        if key not in self._cache:
            api = self._session()
            try:
                self._cache[key] = fetch(api)
            except (TransientApiError, TrustError) as exc:
                # the node is unavailable: every later read says so at once instead of retrying again
                self._failure = f"the Management API is unavailable: {exc}"
                raise
        return self._cache[key]

    def get(self, path: str) -> dict[str, Any]:
        value = self._fetch(path, lambda api: api.get(path))
        assert isinstance(value, dict)
        return value

    def objects(self, resource: str) -> list[dict[str, Any]]:
        value = self._fetch(f"list:{resource}", lambda api: list(api.iter_objects(resource)))
        assert isinstance(value, list)
        return value

    def resolve(self, item: Any) -> dict[str, Any]:
        """A related object read nested (dict) or as a URI (fetched)."""
        return item if isinstance(item, dict) else self.get(str(item))

    def close(self) -> None:
        if self._api is not None:
            self._api.close()


# locating ---------------------------------------------------------------------------------------------
def node_object(reader: ApiReader, node: NodeCommon, site: Site) -> dict[str, Any]:
    """The management_vm / worker_vm object of a site node; LookupError when absent."""
    if node is site.management_node:
        vms = reader.objects("management_vm")
        match = [v for v in vms if v.get("address") == str(node.address)] or (vms if len(vms) == 1 else [])
    else:
        vms = reader.objects("worker_vm")
        match = [v for v in vms if v.get("name") == node.name] or [
            v for v in vms if v.get("address") == str(node.address)
        ]
    if not match:
        raise LookupError(f"{node.name} is not on the Management Node")
    return match[0]


def location_object(reader: ApiReader, name: str) -> dict[str, Any]:
    for loc in reader.objects("system_location"):
        if loc.get("name") == name:
            return loc
    raise LookupError(f"location {name!r} is not on the Management Node")


# generic probes ---------------------------------------------------------------------------------------
def check_fields(
    control: str, target: str, read: Callable[[], Mapping[str, Any]], expected: Mapping[str, JsonValue]
) -> Result:
    """PASS when every expected field of the object ``read`` returns has the expected value."""
    with probe(control, target, expected=dict(expected)) as p:
        obj = read()
        p.log(f"read {obj.get('resource_uri', '?')}")
        observed: dict[str, Any] = {k: obj.get(k) for k in expected}
        wrong = {k: observed[k] for k in expected if observed[k] != expected[k]}
        p.check(not wrong, observed, f"differs from the site: {wrong}")
    return p.result


def _role_permissions(p: Probe, reader: ApiReader, role: str) -> list[str] | None:
    """The sorted permission names of ``role``; FAIL on the probe (and None) when the role does not exist."""
    roles = {r.get("name"): r for r in reader.objects("role")}
    p.log("GET role/")
    if role not in roles:
        p.failed(None, f"role {role!r} does not exist")
        return None
    return sorted(reader.resolve(x).get("name", "") for x in roles[role].get("permissions", []))


def check_role_lacks(control: str, target: str, reader: ApiReader, role: str, permission: str) -> Result:
    """PASS when ``role`` exists and does not hold ``permission``."""
    with probe(control, target, expected=f"'{permission}' not in {role}") as p:
        names = _role_permissions(p, reader, role)
        if names is not None:
            p.check(permission not in names, names, f"{role} still has '{permission}'")
    return p.result


def check_role_exactly(control: str, target: str, reader: ApiReader, role: str, permissions: Sequence[str]) -> Result:
    """PASS when ``role`` exists with exactly ``permissions``."""
    wanted = sorted(permissions)
    with probe(control, target, expected=wanted) as p:
        names = _role_permissions(p, reader, role)
        if names is not None:
            p.check(names == wanted, names, f"{role} has {names}, expected exactly {wanted}")
    return p.result


def check_attached(
    control: str,
    target: str,
    reader: ApiReader,
    owner: Callable[[], Mapping[str, Any]],
    field: str,
    expected: Sequence[str],
    label: Callable[[Mapping[str, Any]], str],
    extra: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> Result:
    """PASS when ``owner[field]`` lists exactly the servers labelled ``expected``, in order, and
    ``extra`` (a per-server check returning a problem or None) finds nothing."""
    with probe(control, target, expected=list(expected)) as p:
        obj = owner()
        p.log(f"read {obj.get('resource_uri', '?')} {field}")
        servers = [reader.resolve(x) for x in obj.get(field) or []]
        labels = [label(s) for s in servers]
        problems = [msg for s in servers if extra is not None and (msg := extra(s))]
        if labels != list(expected):
            p.failed(labels, f"{field} is {labels}, expected {list(expected)}")
        else:
            p.check(not problems, labels, "; ".join(problems))
    return p.result


MANUAL_DEPLOYMENT = "MANUAL-"  # every manual deployment type (ESXi, Hyper-V, KVM, provision-only)


def check_registered(control: str, target: str, reader: ApiReader, node: NodeCommon) -> Result:
    """PASS when a worker_vm carries the node's name with its address, host name and domain, deployed
    manually (when the Management Node shows the type); FAIL when there is none."""
    expected: dict[str, JsonValue] = {"name": node.name, "address": str(node.address), "hostname": node.hostname,
                                      "domain": node.domain}
    with probe(control, target, expected={**expected, "deployment_type": f"{MANUAL_DEPLOYMENT}*"}) as p:
        found = [v for v in reader.objects("worker_vm") if v.get("name") == node.name]
        p.log(f"GET worker_vm/: {len(found)} named {node.name}")
        if not found:
            p.failed(None, f"no worker_vm {node.name} on the Management Node")
        else:
            obj = found[0]
            observed: dict[str, JsonValue] = {k: obj.get(k) for k in expected}
            kind = obj.get("deployment_type")
            observed["deployment_type"] = kind
            wrong = {k: observed[k] for k in expected if observed[k] != expected[k]}
            if kind is not None and not str(kind).startswith(MANUAL_DEPLOYMENT):
                wrong["deployment_type"] = kind
            p.check(not wrong, observed, f"differs from the site: {wrong}")
    return p.result


def check_trusted_cas(control: str, target: str, reader: ApiReader, expected_pems: Sequence[str]) -> Result:
    """PASS when every expected CA certificate is among the platform's trusted CA certificates."""
    wanted = {_fingerprint(p): _subject(p) for p in expected_pems}
    with probe(control, target, expected=sorted(wanted.values())) as p:
        present = {_fingerprint(c["certificate"]) for c in reader.objects("ca_certificate") if c.get("certificate")}
        p.log(f"GET ca_certificate/: {len(present)} certificate(s)")
        missing = [subj for fp, subj in wanted.items() if fp not in present]
        p.check(not missing, {"present": len(present), "missing": missing}, f"not uploaded: {missing}")
    return p.result


def check_sip_tls_fqdn(
    control: str, target: str, reader: ApiReader, node_obj: Callable[[], Mapping[str, Any]], expected_fqdn: str
) -> Result:
    """PASS when the node's ``alternative_fqdn`` is the site's SIP TLS FQDN and its assigned
    certificate covers that name."""
    with probe(control, target, expected=expected_fqdn) as p:
        obj = node_obj()
        fqdn = obj.get("alternative_fqdn") or ""
        cert_uri = obj.get("tls_certificate")
        sans: list[str] = []
        if cert_uri:
            pem = reader.get(str(cert_uri)).get("certificate", "")
            blocks = split_pem(pem)
            sans = san_names(x509.load_pem_x509_certificate(blocks[0].encode())) if blocks else []
        observed = {"alternative_fqdn": fqdn, "certificate_names": sans}
        p.log(f"read {obj.get('resource_uri', '?')} and its certificate {cert_uri}")
        if fqdn != expected_fqdn:
            p.failed(observed, f"alternative_fqdn is {fqdn!r}")
        else:
            p.check(expected_fqdn.lower() in sans, observed, "the node's certificate does not cover the SIP TLS FQDN")
    return p.result


def _fingerprint(pem: str) -> str:
    return x509.load_pem_x509_certificate(split_pem(pem)[0].encode()).fingerprint(hashes.SHA256()).hex()


def _subject(pem: str) -> str:
    return x509.load_pem_x509_certificate(pem.encode()).subject.rfc4514_string()


def _not_applicable(control: str, target: str, why: str) -> Result:
    with probe(control, target) as p:
        p.not_applicable(why)
    return p.result


# stage read-backs -------------------------------------------------------------------------------------
def readback_pki(loaded: LoadedSite, port: int = API_PORT) -> list[Result]:
    """pki.trusted-ca and pki.sip-tls-fqdn, read back on a fresh session."""
    site = loaded.site
    reader = ApiReader(lambda: management_api(loaded, port=port))
    try:
        pems = read_ca_files([loaded.resolve_path(p) for p in site.pki.trusted_ca_files])
        results = [check_trusted_cas("pki.trusted-ca", expect.PLATFORM_TARGET, reader, pems)]
        for node in site.conferencing_nodes:
            if not node.sip_tls_fqdn:
                results.append(_not_applicable("pki.sip-tls-fqdn", node.name, "the site gives no sip_tls_fqdn"))
                continue
            results.append(
                check_sip_tls_fqdn(
                    "pki.sip-tls-fqdn", node.name, reader, _bind_node(reader, node, site), node.sip_tls_fqdn
                )
            )
        return results
    finally:
        reader.close()


def readback_platform(loaded: LoadedSite, port: int = API_PORT) -> list[Result]:
    """Every platform-stage setting the API shows, on a fresh session."""
    site = loaded.site
    reader = ApiReader(lambda: management_api(loaded, port=port))
    glob = config_uri("global", 1)
    try:
        results = [
            check_fields(c, expect.PLATFORM_TARGET, lambda: reader.get(glob), f)
            for c, f in expect.global_fields(site).items()
        ]
        results += _roles(reader)
        results += _servers(reader, site)
        for node in site.nodes():
            read = _bind_node(reader, node, site)
            results.append(check_fields("platform.snmp.v3", node.name, read, expect.snmp_v3_fields(site)))
            v6 = expect.ipv6_fields(node)
            results.append(
                check_fields("platform.ipv6", node.name, read, v6)
                if v6 is not None
                else _not_applicable("platform.ipv6", node.name, "the site gives no IPv6 address")
            )
        for location in site.locations:
            read = _bind_location(reader, location.name)
            results += [check_fields(c, location.name, read, f) for c, f in expect.location_fields(location).items()]
        return results
    finally:
        reader.close()


def _bind_node(reader: ApiReader, node: NodeCommon, site: Site) -> Callable[[], dict[str, Any]]:
    return lambda: node_object(reader, node, site)


def _bind_location(reader: ApiReader, name: str) -> Callable[[], dict[str, Any]]:
    return lambda: location_object(reader, name)


def _roles(reader: ApiReader) -> list[Result]:
    out = [
        check_role_lacks(control, expect.PLATFORM_TARGET, reader, role, perm)
        for control, role, perm in expect.role_removals()
    ]
    out.append(
        check_role_exactly(
            "platform.role.auditor", expect.PLATFORM_TARGET, reader, expect.AUDITOR_ROLE, expect.auditor_permissions()
        )
    )
    return out


def _servers(reader: ApiReader, site: Site) -> list[Result]:
    key_ids = {s.address: s.key_id for s in site.ntp_servers}

    def ntp_key(server: Mapping[str, Any]) -> str | None:
        got, want = server.get("key_id"), key_ids.get(str(server.get("address")))
        return None if got == want and got is not None else f"{server.get('address')}: key_id {got}, expected {want}"

    def syslog_audit(server: Mapping[str, Any]) -> str | None:
        return None if server.get("audit_log") else f"{server.get('address')}: audit_log is off"

    def syslog_label(s: Mapping[str, Any]) -> str:
        return f"{s.get('address')}:{s.get('port')}/{s.get('transport')}"

    owners: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        (site.management_node.name, _bind_node(reader, site.management_node, site))
    ]
    owners += [(loc.name, _bind_location(reader, loc.name)) for loc in site.locations]
    out: list[Result] = []
    for target, owner in owners:
        out.append(
            check_attached(
                "platform.dns.servers",
                target,
                reader,
                owner,
                "dns_servers",
                expect.dns_addresses(site),
                lambda s: str(s.get("address")),
            )
        )
        out.append(
            check_attached(
                "platform.ntp.servers",
                target,
                reader,
                owner,
                "ntp_servers",
                expect.ntp_addresses(site),
                lambda s: str(s.get("address")),
                ntp_key,
            )
        )
        out.append(
            check_attached(
                "platform.syslog.servers",
                target,
                reader,
                owner,
                "syslog_servers",
                expect.syslog_labels(site),
                syslog_label,
                syslog_audit,
            )
        )
    return out


def combine(results: Sequence[Result]) -> Result:
    """One result for one control and target from several verifiers (e.g. read-back + SNMP GET):
    FAIL if any failed, else ERROR if any could not check, else PASS; evidence from all of them. The
    message is that of the verifiers that decided the status (a passing probe's text would contradict it)."""
    first = results[0]
    statuses = [r.status for r in results]
    status: Status = next((s for s in (Status.FAIL, Status.ERROR) if s in statuses), None) or (
        Status.PASS if Status.PASS in statuses else first.status
    )
    return Result(
        control=first.control,
        target=first.target,
        status=status,
        message="; ".join(r.message for r in results if r.message and r.status is status)
        or "; ".join(r.message for r in results if r.message),
        observed=[r.observed for r in results],
        expected=[r.expected for r in results],
        transcript=[line for r in results for line in r.transcript],
        started_at=(start := min(r.started_at for r in results)),
        # the span from the first proof's start to the last one's end: proofs of a session run concurrently,
        # so the sum of their durations would not be how long checking this control took
        duration_s=round(max((r.started_at - start).total_seconds() + r.duration_s for r in results), 6),
    )


def merge_same_target(results: Sequence[Result]) -> list[Result]:
    """Combine results that share a control and target (first-seen order kept)."""
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        groups.setdefault((r.control, r.target), []).append(r)
    return [group[0] if len(group) == 1 else combine(group) for group in groups.values()]
