"""The two wizards as dialogues over a :class:`Terminal`: ask, validate, re-ask, return the answers.

Neither writes state: the session saves what they return, and the node applies it at the next boot.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import fields

from securemode.infra.console import prompts
from securemode.infra.console.terminal import Terminal
from securemode.infra.twin.passwords import make_password
from securemode.infra.twin.state.settings import InstallWizardAnswers, SecuritySettings

_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_DOMAIN = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.@+-]{1,30}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_YES = {"yes", "y"}
_NO = {"no", "n"}


class InvalidAnswer(ValueError):
    """The answer does not fit the question; the message says what would."""


def _ipv4(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise InvalidAnswer("Invalid IPv4 address.") from None


def _netmask(text: str) -> str:
    try:
        ipaddress.IPv4Network(f"0.0.0.0/{text}")
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise InvalidAnswer("Invalid network mask.") from None


def _hostname(text: str) -> str:
    if not _HOSTNAME.match(text):
        raise InvalidAnswer("Invalid hostname: letters, digits and hyphens only, at most 63 characters.")
    return text


def _domain(text: str) -> str:
    if len(text) > 192 or not _DOMAIN.match(text):
        raise InvalidAnswer("Invalid domain suffix.")
    return text


def _ip_list(text: str) -> tuple[str, ...]:
    items = tuple(i for i in re.split(r"[\s,]+", text) if i)
    if not items:
        raise InvalidAnswer("Enter at least one address.")
    try:
        return tuple(str(ipaddress.ip_address(i)) for i in items)
    except ValueError:
        raise InvalidAnswer("Invalid IP address in the list.") from None


def _host_list(text: str) -> tuple[str, ...]:
    items = tuple(i for i in re.split(r"[\s,]+", text) if i)
    if not items:
        raise InvalidAnswer("Enter at least one server.")
    for item in items:
        try:
            ipaddress.ip_address(item)
        except ValueError:
            if len(item) > 255 or not _DOMAIN.match(item):
                raise InvalidAnswer(f"Invalid server name: {item}") from None
    return items


def _username(text: str) -> str:
    if not _USERNAME.match(text):
        raise InvalidAnswer("Invalid username.")
    return text


def _yesno(text: str) -> bool:
    low = text.strip().lower()
    if low in _YES:
        return True
    if low in _NO:
        return False
    raise InvalidAnswer("Please answer yes or no.")


PARSERS = {
    "ipv4": _ipv4,
    "netmask": _netmask,
    "hostname": _hostname,
    "domain": _domain,
    "ip_list": _ip_list,
    "host_list": _host_list,
    "username": _username,
}


def _shown(value: object) -> str:
    if isinstance(value, tuple):
        return " ".join(value)
    return str(value)


async def _ask_valid(term: Terminal, label: str, parse: object, default: object) -> object:
    shown = _shown(default) if default not in (None, "", ()) else ""
    prompt = f"{label} [{shown}]: " if shown else f"{label}: "
    while True:
        answer = (await term.ask(prompt)).strip()
        if not answer and shown:
            return default
        try:
            return parse(answer)  # type: ignore[operator]
        except InvalidAnswer as exc:
            term.line(str(exc))


async def _ask_password(term: Terminal, first: str, again: str, min_length: int = 1) -> str:
    while True:
        password = await term.ask(first, secret=True)
        if len(password) < min_length:
            term.line(prompts.PASSWORD_TOO_SHORT if min_length > 1 else "The password must not be empty.")
            continue
        if await term.ask(again, secret=True) != password:
            term.line(prompts.PASSWORDS_DIFFER)
            continue
        return password


async def ask_new_console_password(term: Terminal) -> str:
    return await _ask_password(term, prompts.NEW_PASSWORD, prompts.RETYPE_PASSWORD, prompts.MIN_PASSWORD_LENGTH)


async def install_wizard(term: Terminal, defaults: InstallWizardAnswers, hash_iterations: int) -> InstallWizardAnswers:
    """Ask every installation-wizard question; the web password is hashed at once, never kept."""
    term.line(prompts.INSTALL_BANNER)
    values: dict[str, object] = {}
    for question in prompts.INSTALL_QUESTIONS:
        values[question.field] = await _ask_valid(
            term, question.label, PARSERS[question.kind], getattr(defaults, question.field)
        )
    password = await _ask_password(term, prompts.WEB_PASSWORD, prompts.WEB_PASSWORD_AGAIN)
    values["web_admin_password_hash"] = make_password(password, hash_iterations)
    del password
    values["incident_reporting"] = await _ask_valid(term, prompts.INCIDENT_REPORTING.removesuffix(": "), _yesno, None)
    values["contact_email_address"] = ""
    if values["incident_reporting"]:
        values["contact_email_address"] = await _ask_valid(
            term, prompts.CONTACT_EMAIL.removesuffix(": "), _email, None
        )
    values["send_statistics"] = await _ask_valid(term, prompts.SEND_STATISTICS.removesuffix(": "), _yesno, None)
    known = {f.name for f in fields(InstallWizardAnswers)}
    return InstallWizardAnswers(**{k: v for k, v in values.items() if k in known})  # type: ignore[arg-type]


def _email(text: str) -> str:
    if not _EMAIL.match(text):
        raise InvalidAnswer("Invalid email address.")
    return text


def _parse_row(row: prompts.SecurityRow, text: str) -> bool | int:
    low = text.strip().lower()
    if row.kind == "bool":
        if low in _YES:
            return True
        if low in _NO:
            return False
        raise InvalidAnswer("Please answer YES or NO.")
    try:
        number = int(low)
    except ValueError:
        raise InvalidAnswer("Please enter a number.") from None
    if row.kind == "port" and not 1 <= number <= 65535:
        raise InvalidAnswer("Please enter a port number between 1 and 65535.")
    if row.kind == "limit" and number < 0:
        raise InvalidAnswer("Please enter 0 (no limit) or a positive number.")
    return number


async def security_wizard(term: Terminal, current: SecuritySettings) -> SecuritySettings:
    """One question per row of the guide's table; an empty answer keeps the value in brackets."""
    term.line(prompts.SECURITY_BANNER)
    changes: dict[str, bool | int] = {}
    for row in prompts.SECURITY_ROWS:
        value: bool | int = getattr(current, row.field)
        if row.note:
            term.line(row.note)
        while True:
            answer = (await term.ask(row.prompt(value))).strip()
            if not answer:
                changes[row.field] = value
                break
            try:
                changes[row.field] = _parse_row(row, answer)
                break
            except InvalidAnswer as exc:
                term.line(str(exc))
    return current.updated(**changes)
