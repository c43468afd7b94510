"""The answers the engine gives the two wizards, from the site file and the guide's table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

from securemode.catalogue.bootstrap import SECURITY_WIZARD
from securemode.console.expect import Pattern
from securemode.site import Site

Value = bool | int


@dataclass(frozen=True)
class WizardRow:
    """One row of the guide's security-wizard table, keyed like its control (bootstrap.wizard.<key>)."""

    key: str
    label: str
    kind: Literal["bool", "int"]

    @property
    def control(self) -> str:
        return f"bootstrap.wizard.{self.key}"

    @property
    def pattern(self) -> Pattern:
        """The prompt: the guide's label, then "(NO)" or "(default = NO)" holding the current value."""
        return Pattern(f"'{self.label} (…):'",
                       re.escape(self.label) + r"\s*\((?:default\s*=\s*)?(?P<current>[^)\n]*)\)\s*:")

    def render(self, value: Value) -> str:
        if self.kind == "bool":
            return "YES" if value else "NO"
        return str(int(value))

    def parse(self, shown: str) -> Value:
        """The value a prompt shows as its default; ValueError when it is not one of ours."""
        text = shown.strip().upper()
        if self.kind == "bool":
            if text in ("YES", "Y", "TRUE", "ON"):
                return True
            if text in ("NO", "N", "FALSE", "OFF"):
                return False
            raise ValueError(f"'{shown}' is not YES or NO")
        return int(text)


ROWS: tuple[WizardRow, ...] = tuple(
    WizardRow(key, label, "bool" if isinstance(answer, bool) else "int") for key, label, answer in SECURITY_WIZARD
)
ROW_BY_KEY = {row.key: row for row in ROWS}


def _site_value(site: Site, path: str) -> Value:
    value: object = site
    for part in path.split("."):
        value = getattr(value, part)
    if not isinstance(value, bool | int):
        raise TypeError(f"site value {path} is not a number or yes/no")
    return value


def desired_security_answers(site: Site) -> dict[str, Value]:
    """The guide's answer per row; the customisable rows ("site:…") come from ``site.security_wizard``."""
    out: dict[str, Value] = {}
    for key, _label, answer in SECURITY_WIZARD:
        if isinstance(answer, str) and answer.startswith("site:"):
            out[key] = _site_value(site, answer.removeprefix("site:"))
        elif isinstance(answer, bool | int):
            out[key] = answer
        else:
            raise TypeError(f"catalogue answer of {key} is neither a value nor a site reference")
    return out


@dataclass(frozen=True)
class InstallAnswers:
    """Installation-wizard answers; both passwords stay SecretStr (their repr is masked)."""

    address: str
    netmask: str
    gateway: str
    hostname: str
    domain: str
    dns_servers: tuple[str, ...]
    ntp_servers: tuple[str, ...]
    web_username: str
    web_password: SecretStr
    incident_reporting: bool = False
    send_statistics: bool = False

    def answer(self, key: str) -> tuple[str, bool]:
        """(text to type, is it secret) for an install-wizard question key."""
        if key in ("web_password", "web_password_again"):
            return self.web_password.get_secret_value(), True
        if key in ("incident_reporting", "send_statistics"):
            return ("yes" if getattr(self, key) else "no"), False
        value = getattr(self, key)
        return (" ".join(value) if isinstance(value, tuple) else str(value)), False


def install_answers(site: Site, web_password: SecretStr) -> InstallAnswers:
    """The guide's step 4: the node's addressing from the site, incident reporting and statistics off."""
    node = site.management_node
    if node.gateway is None:
        raise ValueError("management_node.gateway is required by the installation wizard")
    return InstallAnswers(
        address=str(node.address),
        netmask=str(node.netmask),
        gateway=str(node.gateway),
        hostname=node.hostname,
        domain=node.domain,
        dns_servers=tuple(str(d) for d in site.dns_servers),
        ntp_servers=tuple(n.address for n in site.ntp_servers),
        web_username=node.admin_username,
        web_password=web_password,
        incident_reporting=False,
        send_statistics=False,
    )
