"""The console's view of a twin node: its console password, its wizards' answers, and "reboot".

Wizard answers do not take effect at once: they are saved as *pending* and applied by :meth:`boot`,
which the console server calls when the node "comes back" after the reboot each wizard ends with
(and on every start, so a node stopped mid-reboot applies them on the next boot). Only then does the
twin's HTTPS side see the new security settings, and only then does "Disable system administrator
account" lock the console — for good: nothing here ever clears that setting.

Kept in the twin's state store (key/value rows prefixed ``console.``); the console password only as
a pbkdf2 hash.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from securemode.infra.twin.passwords import check_password, make_password
from securemode.infra.twin.state.settings import InstallWizardAnswers, SecuritySettings
from securemode.infra.twin.state.twin_state import TwinState

PASSWORD_KEY = "console.admin_password_hash"
PENDING_INSTALL_KEY = "console.pending_install_wizard"
PENDING_SECURITY_KEY = "console.pending_security_settings"
BOOTS_KEY = "console.boots"


@dataclass(frozen=True)
class BootReport:
    """What a boot applied: installation answers, security settings, or nothing."""

    installed: bool = False
    security_applied: bool = False


class ConsoleNode:
    """Read and change the console-side state of one twin node (thread-safe)."""

    def __init__(self, state: TwinState) -> None:
        self.state = state
        self._lock = threading.Lock()

    # reads ------------------------------------------------------------------------------------------
    @property
    def store(self) -> Any:
        return self.state.store

    def password_set(self) -> bool:
        return bool(self.store.get_kv(PASSWORD_KEY))

    def check_password(self, password: str) -> bool:
        encoded = self.store.get_kv(PASSWORD_KEY)
        return bool(encoded) and check_password(password, str(encoded))

    def installed(self) -> bool:
        return self.state.seeded

    def install_pending(self) -> bool:
        return self.store.get_kv(PENDING_INSTALL_KEY) is not None

    def security_settings(self) -> SecuritySettings:
        """The settings in effect (applied at the last boot)."""
        return self.state.security_settings()

    def pending_security_settings(self) -> SecuritySettings | None:
        data = self.store.get_kv(PENDING_SECURITY_KEY)
        return SecuritySettings.from_dict(data) if data else None

    def locked_out(self) -> bool:
        """True once a boot applied "Disable system administrator account" = YES (irreversible)."""
        return self.installed() and self.security_settings().disable_admin_account

    def hostname(self) -> str:
        return self.state.install_wizard().hostname if self.installed() else "pexip"

    def boots(self) -> int:
        return int(self.store.get_kv(BOOTS_KEY) or 0)

    # changes ----------------------------------------------------------------------------------------
    def set_password(self, password: str) -> None:
        self.store.set_kv(PASSWORD_KEY, make_password(password, self.state.config.password_hash_iterations))
        self.store.audit("admin", "console_password", "console admin password set")

    def save_install_answers(self, answers: InstallWizardAnswers) -> None:
        """Record the installation wizard's answers; they become the node's configuration at boot."""
        self.store.set_kv(PENDING_INSTALL_KEY, answers.to_dict())

    def save_security_settings(self, settings: SecuritySettings) -> None:
        """Record the security wizard's answers; they take effect at the next boot."""
        if self.locked_out():
            raise PermissionError("the system administrator account is disabled")
        self.store.set_kv(PENDING_SECURITY_KEY, settings.to_dict())
        self.store.audit("admin", "securitywizard", "security wizard completed; applied at next boot")

    def boot(self) -> BootReport:
        """Apply what the wizards left pending, as the node does when it comes back from a reboot."""
        with self._lock:
            installed = security = False
            pending_install = self.store.get_kv(PENDING_INSTALL_KEY)
            if pending_install is not None:
                if not self.state.seeded:
                    self.state.seed(InstallWizardAnswers.from_dict(pending_install))
                    installed = True
                self.store.set_kv(PENDING_INSTALL_KEY, None)
            pending_security = self.pending_security_settings()
            if pending_security is not None and self.installed():
                current = self.security_settings()
                if current.disable_admin_account:
                    # irreversible: a locked node never takes the account back
                    pending_security = pending_security.updated(disable_admin_account=True)
                self.state.set_security_settings(pending_security)
                self.store.set_kv(PENDING_SECURITY_KEY, None)
                security = True
            self.store.set_kv(BOOTS_KEY, self.boots() + 1)
            return BootReport(installed=installed, security_applied=security)
