"""Minimal throwaway slapd for the twin's login tests (static slapd.conf, mdb, memberof, LDAPS).

TODO: switch to the shared launcher infra/services/slapd.py once it has settled; this fixture exists
so the twin's tests do not depend on it while both are being written.
Data is loaded online (ldap3 as rootdn) after start, because overlays do not run under slapadd.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import ldap3

from tests.lab_infra.twin.certs import ScratchCA

BASE = "dc=example,dc=test"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PW = "R00t-Ldap-Pw"
BIND_DN = f"cn=pexip-bind,ou=services,{BASE}"
BIND_PW = "B1nd-Ldap-Pw"
# user -> (password, groups)
USERS = {
    "alice": ("Al1ce-Pw", ["pexip-admins"]),
    "rita": ("R1ta-Pw", ["pexip-readonly"]),
    "audrey": ("Aud1t-Pw", ["pexip-auditors"]),
    "nobody": ("N0body-Pw", []),
}
GROUPS = ("pexip-admins", "pexip-readonly", "pexip-auditors")

CONF = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
TLSCACertificateFile {d}/ca.pem
TLSCertificateFile {d}/server.pem
TLSCertificateKeyFile {d}/server.key
TLSCipherSuite NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3
disallow bind_anon
require authc
database mdb
maxsize 10485760
suffix "{base}"
rootdn "{root}"
rootpw {rootpw}
directory {d}/db
overlay memberof
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by anonymous auth
"""


@dataclass
class Slapd:
    process: subprocess.Popen[bytes]
    port: int
    tls_port: int
    ca_file: Path

    def user_dn(self, uid: str) -> str:
        return f"uid={uid},ou=people,{BASE}"

    def group_dn(self, name: str) -> str:
        return f"cn={name},ou=groups,{BASE}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def available() -> bool:
    return bool(shutil.which("slapd") or Path("/usr/sbin/slapd").exists())


def start(workdir: Path, ca: ScratchCA) -> Slapd:
    (workdir / "db").mkdir(parents=True)
    cert, key = ca.server("ldap.example.test", dns=["localhost"], ips=["127.0.0.1"])
    (workdir / "server.pem").write_text(cert)
    (workdir / "server.key").write_text(key)
    ca.write(workdir / "ca.pem")
    (workdir / "slapd.conf").write_text(CONF.format(d=workdir, base=BASE, root=ROOT_DN, rootpw=ROOT_PW))
    port, tls_port = _free_port(), _free_port()
    urls = f"ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/"
    binary = shutil.which("slapd") or "/usr/sbin/slapd"
    proc = subprocess.Popen(
        [binary, "-f", str(workdir / "slapd.conf"), "-h", urls, "-d", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = Slapd(proc, port, tls_port, workdir / "ca.pem")
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                server.stop()
                raise RuntimeError(f"slapd did not start: {err[-500:]}") from None
            time.sleep(0.05)
    _load(server)
    return server


def _load(server: Slapd) -> None:
    conn = ldap3.Connection(ldap3.Server("127.0.0.1", port=server.port), ROOT_DN, ROOT_PW, auto_bind=True)
    try:
        conn.add(BASE, ["dcObject", "organization"], {"o": "Example", "dc": "example"})
        for ou in ("people", "groups", "services"):
            conn.add(f"ou={ou},{BASE}", ["organizationalUnit"], {"ou": ou})
        conn.add(BIND_DN, ["person"], {"cn": "pexip-bind", "sn": "bind", "userPassword": BIND_PW})
        for uid, (password, _) in USERS.items():
            conn.add(
                server.user_dn(uid),
                ["inetOrgPerson"],
                {"cn": uid, "sn": uid, "uid": uid, "mail": f"{uid}@example.test", "userPassword": password},
            )
        for group in GROUPS:
            members = [server.user_dn(u) for u, (_, groups) in USERS.items() if group in groups]
            conn.add(server.group_dn(group), ["groupOfNames"], {"cn": group, "member": members})
            assert conn.result["result"] == 0, conn.result
    finally:
        conn.unbind()
