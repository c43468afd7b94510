"""A throwaway OpenLDAP slapd for the lab: LDAP (StartTLS), LDAPS, users per role, groups, memberOf.

Start it with :func:`start`; everything lives in ``workdir`` and the daemon is stopped by PID.

Listeners (``handle.endpoints``)::

    "ldap"   ldap://ADDRESS:PORT       plain LDAP; StartTLS available; simple binds refused until TLS
                                      (result 13 confidentialityRequired) unless plain_bind_allowed=True
    "ldaps"  ldaps://ADDRESS:TLS_PORT  LDAP over TLS
    ldapi    unix socket (handle.ldapi_uri), used to load the data online and for admin changes

The server certificate comes from the lab CA (``handle.ca_file`` is the root to verify it with); the
TLS posture is a GnuTLS priority string (Debian's slapd is linked with GnuTLS and ignores
``TLSProtocolMin``). Anonymous binds are disallowed and every operation needs authentication.

DIT (``base_dn`` defaults to ``dc=lab,dc=securemode,dc=test``; the user realm is derived from it,
here ``lab.securemode.test``)::

    dc=lab,dc=securemode,dc=test                      dcObject + organization
      cn=admin,<base>                                 rootdn (handle.admin_dn / admin_password); no entry
      ou=services   cn=pexip-bind                     the service bind account (handle.bind_dn / bind_password)
                                                      read access to people and groups, never to passwords
      ou=people     uid=lab-admin, uid=lab-operator,  one user per role: inetOrgPerson + securemodeLabPrincipal
                    uid=lab-auditor, uid=lab-readonly
      ou=groups     cn=pexip-admin, cn=pexip-operator, groupOfNames, member = that role's user
                    cn=pexip-auditor, cn=pexip-readonly
      ou=people     uid=lab-nogroup                    a user in no group (handle.ungrouped): logs in to
                                                      LDAP, but no mapping gives them a role

Each user entry has: ``uid`` = ``cn`` = ``sAMAccountName`` = the username (the identity of a CN-form
client certificate, found by Pexip's default filter ``(|(uid={username})(sAMAccountName={username}))``;
Pexip's default user filter ``(&(objectclass=person)(!(objectclass=computer)))`` matches them), ``mail`` and
``userPrincipalName`` = ``<uid>@<realm>`` (the identity of a UPN-form client certificate; search it
with ``(userPrincipalName={upn})`` or ``(mail={upn})``), ``userPassword`` ({SSHA}) and ``memberOf``
(maintained by the memberof overlay, which is why the data is loaded online after start; overlays do
not run under slapadd). ``userPrincipalName`` and ``sAMAccountName`` use Active Directory's OIDs with
caseIgnoreMatch equality, in the auxiliary class ``securemodeLabPrincipal`` (OID arc 1.3.6.1.4.1.32473,
the RFC 5612 documentation arc); AD's ``computer`` class is defined (unused) so that filters naming it
evaluate instead of matching nobody.

Passwords are generated (or given in ``passwords``: keys ``"admin"`` for the rootdn, ``"bind"`` for the
service account, ``"nogroup"`` for the user in no group, and the role names), registered with
:mod:`securemode.redact`, exposed only through the handle (fields excluded from repr), stored in the
directory only as {SSHA} hashes and never logged.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import ldap3

from securemode.infra.pki.ca import IssuedCertificate, LabCA
from securemode.infra.services.process import (
    ServiceHandle,
    bound_sockets,
    ensure_workdir,
    free_port,
    spawn,
    stopped_on_failure,
    wait_ready,
)
from securemode.redact import register_secret

DEFAULT_BASE_DN = "dc=lab,dc=securemode,dc=test"
DEFAULT_ROLES: tuple[str, ...] = ("admin", "operator", "auditor", "readonly")
UNGROUPED = "nogroup"
STRICT_TLS = "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3"
"""GnuTLS priority string: TLS 1.2 and 1.3 only (the secure-mode posture)."""
WEAK_TLS = "NORMAL:+VERS-TLS1.0:+VERS-TLS1.1"
"""GnuTLS priority string that also accepts TLS 1.0/1.1: for negative tests of TLS verifiers."""

_SCHEMA_DIR = Path("/etc/ldap/schema")
_MODULE_DIR = Path("/usr/lib/ldap")
_SLAPD = "/usr/sbin/slapd"
_MAX_UNIX_PATH = 100
_LAB_SCHEMA = """\
# Active Directory names (same OIDs) that Pexip's default LDAP filters use, made searchable here:
# msuser.schema has no EQUALITY rules, and an undefined objectClass makes the default user filter
# (&(objectclass=person)(!(objectclass=computer))) evaluate to Undefined, matching nobody.
attributetype ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName'
  DESC 'user@realm identity, as carried by UPN-form client certificates'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
  DESC 'AD logon name; here equal to uid'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.2.840.113556.1.5.86 NAME 'computer' SUP top AUXILIARY
  DESC 'AD computer class: defined only so that filters naming it evaluate' )
objectclass ( 1.3.6.1.4.1.32473.1.2.1 NAME 'securemodeLabPrincipal' SUP top AUXILIARY
  DESC 'lab user with AD-style userPrincipalName and sAMAccountName'
  MAY ( userPrincipalName $ sAMAccountName ) )
"""


@dataclass(frozen=True)
class LdapUser:
    """One lab user: its role, identities and password."""

    role: str
    uid: str
    dn: str
    upn: str
    group_dn: str
    password: str = field(repr=False)


@dataclass
class SlapdHandle(ServiceHandle):
    """A running slapd with its DIT; passwords are fields excluded from repr."""

    base_dn: str = ""
    realm: str = ""
    ca_file: Path = Path()
    ldapi_uri: str = ""
    admin_dn: str = ""
    admin_password: str = field(default="", repr=False)
    bind_dn: str = ""
    bind_password: str = field(default="", repr=False)
    users: dict[str, LdapUser] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    ungrouped: LdapUser | None = None  # a user in no group (group_dn empty)

    @property
    def ldap_uri(self) -> str:
        host, port = self.endpoints["ldap"]
        return f"ldap://{host}:{port}"

    @property
    def ldaps_uri(self) -> str:
        host, port = self.endpoints["ldaps"]
        return f"ldaps://{host}:{port}"

    def admin_connection(self) -> ldap3.Connection:
        """A bound rootdn connection over ldapi (for tests and lab set-up that change the DIT)."""
        server = ldap3.Server(self.ldapi_uri, get_info=ldap3.NONE)
        return ldap3.Connection(server, self.admin_dn, self.admin_password, auto_bind=True)


def issue_client_certificates(ca: LabCA, users: Iterable[LdapUser]) -> dict[str, dict[str, IssuedCertificate]]:
    """Client certificates in both Pexip forms for each user: ``{role: {"cn": cert, "upn": cert}}``.

    CN form: subject CN = uid. UPN form: subjectAltName userPrincipalName = the user's UPN (the
    entry's ``userPrincipalName`` and ``mail``). Both chain to ``ca``'s root.
    """
    return {
        user.role: {"cn": ca.issue_client(user.uid), "upn": ca.issue_client(user.uid, upn=user.upn)} for user in users
    }


def realm_of(base_dn: str) -> str:
    """``dc=lab,dc=securemode,dc=test`` -> ``lab.securemode.test`` (the UPN suffix)."""
    parts = [rdn.split("=", 1) for rdn in base_dn.split(",")]
    labels = [v.strip() for k, v in parts if k.strip().lower() == "dc"]
    if not labels:
        raise ValueError(f"base_dn {base_dn!r} has no dc= components to derive a realm from")
    return ".".join(labels)


def ssha(password: str) -> str:
    """RFC 2307 {SSHA} hash, as slapd stores and checks it."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()  # noqa: S324 - the format slapd speaks
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def start(
    workdir: Path | str,
    ca: LabCA,
    address: str = "127.0.0.1",
    port: int | None = None,
    tls_port: int | None = None,
    *,
    base_dn: str = DEFAULT_BASE_DN,
    roles: Sequence[str] = DEFAULT_ROLES,
    passwords: Mapping[str, str] | None = None,
    server_names: Sequence[str] = (),
    tls_priority: str = STRICT_TLS,
    plain_bind_allowed: bool = False,
    timeout: float = 10.0,
) -> SlapdHandle:
    """Start slapd on ``address`` (ports picked free when None), load the DIT online, wait until it answers.

    ``server_names`` are extra DNS names for the server certificate (its IP SAN is ``address``).
    ``plain_bind_allowed=True`` lets simple binds through without TLS: a deliberately weak server for
    negative tests of the LDAP verifier.
    """
    t0 = time.perf_counter()
    work = ensure_workdir(workdir)
    port = port or free_port(address, ("tcp",))
    tls_port = tls_port or free_port(address, ("tcp",))
    realm = realm_of(base_dn)
    pw = _passwords(roles, passwords)
    cert = ca.issue_server(
        f"slapd-{address}-{tls_port}", dns_names=[*server_names, f"ldap.{realm}"], ip_addresses=[address]
    )
    db = work / "db"
    if db.exists():
        shutil.rmtree(db)
    db.mkdir(mode=0o700)
    (work / "lab.schema").write_text(_LAB_SCHEMA)
    admin_dn = f"cn=admin,{base_dn}"
    conf = work / "slapd.conf"
    conf.write_text(
        _slapd_conf(
            work,
            base_dn=base_dn,
            admin_dn=admin_dn,
            admin_hash=ssha(pw["admin"]),
            bind_dn=f"cn=pexip-bind,ou=services,{base_dn}",
            ca_file=ca.root_path,
            cert_file=cert.fullchain_path,
            key_file=cert.key_path,
            tls_priority=tls_priority,
            plain_bind_allowed=plain_bind_allowed,
        )
    )
    os.chmod(conf, 0o600)
    sock_dir, cleanup = _ldapi_dir(work)
    ldapi_path = sock_dir / "ldapi"
    ldapi_uri = "ldapi://" + urllib.parse.quote(str(ldapi_path), safe="")
    urls = f"ldap://{address}:{port}/ ldaps://{address}:{tls_port}/ {ldapi_uri}"
    popen = spawn([_SLAPD, "-d", "stats", "-f", str(conf), "-h", urls], work, "slapd.out")
    handle = SlapdHandle(
        name="slapd",
        pid=popen.pid,
        workdir=work,
        endpoints={"ldap": (address, port), "ldaps": (address, tls_port)},
        startup_s=0.0,
        executable=_SLAPD,
        _popen=popen,
        _cleanup=[cleanup] if cleanup else [],
        base_dn=base_dn,
        realm=realm,
        ca_file=ca.root_path,
        ldapi_uri=ldapi_uri,
        admin_dn=admin_dn,
        admin_password=pw["admin"],
        bind_dn=f"cn=pexip-bind,ou=services,{base_dn}",
        bind_password=pw["bind"],
    )
    with stopped_on_failure(handle.stop):
        wait_ready(
            popen,
            lambda: ldapi_path.exists() and {(address, port), (address, tls_port)} <= bound_sockets("tcp"),
            what="slapd",
            log_path=work / "slapd.out",
            timeout=timeout,
        )
        handle.users, handle.groups = _load_dit(handle, roles, pw)
        handle.ungrouped = _add_user(handle, UNGROUPED, "", pw[UNGROUPED])
    handle.startup_s = time.perf_counter() - t0
    return handle


def _passwords(roles: Sequence[str], given: Mapping[str, str] | None) -> dict[str, str]:
    pw = {name: secrets.token_urlsafe(18) for name in ("admin", "bind", UNGROUPED, *roles)}
    pw.update(given or {})
    for value in pw.values():
        register_secret(value)
    return pw


def _ldapi_dir(work: Path) -> tuple[Path, Callable[[], None] | None]:
    """The ldapi socket's directory: the workdir, or a short tmp dir when the path would be too long."""
    if len(str(work / "ldapi")) <= _MAX_UNIX_PATH:
        return work, None
    short = Path(tempfile.mkdtemp(prefix="sm-ldapi-"))

    def cleanup() -> None:
        shutil.rmtree(short, ignore_errors=True)

    return short, cleanup


def _slapd_conf(
    work: Path,
    *,
    base_dn: str,
    admin_dn: str,
    admin_hash: str,
    bind_dn: str,
    ca_file: Path,
    cert_file: Path,
    key_file: Path,
    tls_priority: str,
    plain_bind_allowed: bool,
) -> str:
    schemas = "\n".join(f"include {_SCHEMA_DIR / name}.schema" for name in ("core", "cosine", "inetorgperson"))
    # simple_bind=64 needs a security strength factor of 64 for simple binds: TLS (>=128) or ldapi (71).
    security = "" if plain_bind_allowed else "security simple_bind=64"
    return f"""\
# Generated by infra/services/slapd.py: a throwaway lab directory.
{schemas}
include {work / "lab.schema"}
pidfile {work / "slapd.pid"}
argsfile {work / "slapd.args"}
modulepath {_MODULE_DIR}
moduleload back_mdb
moduleload memberof
moduleload refint
loglevel none
disallow bind_anon
require authc
{security}
TLSCACertificateFile {ca_file}
TLSCertificateFile {cert_file}
TLSCertificateKeyFile {key_file}
TLSCipherSuite {tls_priority}
TLSVerifyClient never

database mdb
maxsize 67108864
suffix "{base_dn}"
rootdn "{admin_dn}"
rootpw {admin_hash}
directory {work / "db"}
index objectClass eq
index uid,cn,mail,userPrincipalName,sAMAccountName eq
index member,memberOf eq

overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
overlay refint
refint_attributes member

access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by dn.exact="{bind_dn}" read
  by users read
  by * none
"""


def _load_dit(
    handle: SlapdHandle, roles: Sequence[str], pw: Mapping[str, str]
) -> tuple[dict[str, LdapUser], dict[str, str]]:
    """Add the entries over ldapi as rootdn, so the memberof overlay fills memberOf."""
    base = handle.base_dn
    first_rdn_value = base.split(",", 1)[0].split("=", 1)[1]
    users: dict[str, LdapUser] = {}
    groups: dict[str, str] = {}
    with handle.admin_connection() as conn:
        _add(conn, base, ["top", "dcObject", "organization"], {"dc": first_rdn_value, "o": handle.realm})
        for ou in ("services", "people", "groups"):
            _add(conn, f"ou={ou},{base}", ["top", "organizationalUnit"], {"ou": ou})
        _add(
            conn,
            handle.bind_dn,
            ["top", "organizationalRole", "simpleSecurityObject"],
            {
                "cn": "pexip-bind",
                "description": "Pexip Infinity LDAP service account",
                "userPassword": ssha(pw["bind"]),
            },
        )
        for role in roles:
            uid = f"lab-{role}"
            upn = f"{uid}@{handle.realm}"
            dn = f"uid={uid},ou=people,{base}"
            group_dn = f"cn=pexip-{role},ou=groups,{base}"
            _add(
                conn,
                dn,
                ["top", "person", "organizationalPerson", "inetOrgPerson", "securemodeLabPrincipal"],
                {
                    "uid": uid,
                    "cn": uid,
                    "sn": role,
                    "displayName": f"Lab {role}",
                    "mail": upn,
                    "userPrincipalName": upn,
                    "sAMAccountName": uid,
                    "userPassword": ssha(pw[role]),
                },
            )
            users[role] = LdapUser(role=role, uid=uid, dn=dn, upn=upn, group_dn=group_dn, password=pw[role])
        for role, user in users.items():
            _add(
                conn,
                user.group_dn,
                ["top", "groupOfNames"],
                {"cn": f"pexip-{role}", "description": f"Pexip {role} role", "member": [user.dn]},
            )
            groups[role] = user.group_dn
    return users, groups


def _add_user(handle: SlapdHandle, role: str, group_dn: str, password: str) -> LdapUser:
    """One more person entry (for the user in no group: ``group_dn`` empty)."""
    uid = f"lab-{role}"
    user = LdapUser(role=role, uid=uid, dn=f"uid={uid},ou=people,{handle.base_dn}", upn=f"{uid}@{handle.realm}",
                    group_dn=group_dn, password=password)
    with handle.admin_connection() as conn:
        _add(conn, user.dn, ["top", "person", "organizationalPerson", "inetOrgPerson", "securemodeLabPrincipal"],
             {"uid": uid, "cn": uid, "sn": role, "displayName": f"Lab {role}", "mail": user.upn,
              "userPrincipalName": user.upn, "sAMAccountName": uid, "userPassword": ssha(password)})
    return user


def _add(conn: ldap3.Connection, dn: str, classes: list[str], attrs: dict[str, object]) -> None:
    if not conn.add(dn, classes, attrs):
        raise RuntimeError(f"slapd refused to add {dn}: {conn.result.get('description')}")
