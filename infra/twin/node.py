"""TwinManagementNode: the embeddable Management Node twin (HTTPS API + admin web) over a state folder."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import TracebackType

from securemode.infra.twin import pki
from securemode.infra.twin.auth.authenticator import Authenticator
from securemode.infra.twin.auth.ldap import LdapOptions
from securemode.infra.twin.config import TwinConfig
from securemode.infra.twin.faults import FaultInjector
from securemode.infra.twin.server.dispatch import Dispatcher
from securemode.infra.twin.server.http import TwinHTTPServer
from securemode.infra.twin.server.tls import TlsContexts, current_posture
from securemode.infra.twin.state.settings import InstallWizardAnswers
from securemode.infra.twin.state.twin_state import TwinState
from securemode.infra.twin.web.app import WebApp
from securemode.infra.twin.web.sessions import SessionStore

log = logging.getLogger("securemode.infra.twin")


class TwinManagementNode:
    """A Management Node twin listening on address:port (port 0 picks a free one).

    A fresh state folder is seeded as the installation wizard would: the web admin account, DNS/NTP
    servers, a self-signed certificate (id 1). An existing folder is reopened as it was.
    """

    def __init__(
        self,
        state_dir: Path | str,
        address: str = "127.0.0.1",
        port: int = 0,
        *,
        config: TwinConfig | None = None,
        admin_username: str = "admin",
        admin_password: str | None = None,
        hostname: str = "mgr",
        domain: str = "example.test",
        dns_servers: tuple[str, ...] = (),
        ntp_servers: tuple[str, ...] = (),
        ldap_port: int | None = None,
        ldap_ca_file: str | None = None,
        ldap_tls_mode: str = "auto",
    ) -> None:
        self.address = address
        self._requested_port = port
        self.state = TwinState(state_dir, config)
        if not self.state.seeded:
            if not admin_password:
                raise ValueError("admin_password is required to initialise a fresh state folder")
            answers = TwinState.answers(
                address,
                admin_password,
                self.state.config.password_hash_iterations,
                hostname=hostname,
                domain=domain,
                web_admin_username=admin_username,
                dns_servers=tuple(dns_servers),
                ntp_servers=tuple(ntp_servers),
            )
            self.state.seed(answers)
        self.ldap_options = LdapOptions(ldap_port, ldap_ca_file, ldap_tls_mode, self.state.config.ldap_timeout_s)
        self.faults = FaultInjector(watch_file=self.state.state_dir / "faults.json")
        self.sessions = SessionStore(publish_to=self.state.state_dir / "web-sessions.json")
        self.auth = Authenticator(self.state, self.ldap_options)
        self.web = WebApp(self.state, self.auth, self.sessions)
        self.contexts = TlsContexts(self.state, self.state.state_dir / "tls")
        self._server: TwinHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle --------------------------------------------------------------------------------------
    def start(self) -> TwinManagementNode:
        if self._server is not None:
            return self
        dispatcher = Dispatcher(self.state, self.auth, self.web, self.faults)
        self.contexts.current()  # fail fast on a broken certificate
        self._server = TwinHTTPServer((self.address, self._requested_port), dispatcher, self.contexts)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"twin-{self.address}", daemon=True
        )
        self._thread.start()
        log.info("twin management node listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
        self.state.close()

    def __enter__(self) -> TwinManagementNode:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # addresses and trust ----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            return self._requested_port
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"https://{host}:{self.port}"

    def certificate_pem(self) -> str:
        """The chain the listener serves right now (leaf first)."""
        return current_posture(self.state).cert_chain_pem

    def fingerprint_sha256(self) -> str:
        """SHA-256 fingerprint of the served leaf, for pinning a fresh node's self-signed certificate."""
        return pki.fingerprint_sha256(self.certificate_pem())

    def write_certificate(self, path: Path | str) -> Path:
        """Write the served leaf to a file usable as `verify=` / cafile while it is self-signed."""
        target = Path(path)
        target.write_text(pki.split_pem(self.certificate_pem()).certificates[0])
        return target

    @property
    def install_wizard_answers(self) -> InstallWizardAnswers:
        return self.state.install_wizard()
