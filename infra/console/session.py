"""One console login: set the password on first use, the installation wizard on a fresh node, then a
small shell whose one real command is `securitywizard`. Each wizard ends the session with a reboot.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum

from securemode.infra.console import prompts, wizards
from securemode.infra.console.node import ConsoleNode
from securemode.infra.console.terminal import SessionClosed, Terminal
from securemode.infra.twin.state.settings import InstallWizardAnswers

MAX_PASSWORD_TRIES = 3


class SessionEnd(StrEnum):
    LOGOUT = "logout"
    REBOOT_INSTALL = "reboot-install"
    REBOOT_SECURITY = "reboot-security"


class ConsoleSession:
    def __init__(self, term: Terminal, node: ConsoleNode, address: str) -> None:
        self.term = term
        self.node = node
        self.address = address

    async def run(self) -> SessionEnd:
        try:
            return await self._run()
        except SessionClosed:
            return SessionEnd.LOGOUT

    async def _run(self) -> SessionEnd:
        if not self.node.password_set():
            self.term.line(prompts.PASSWORD_MUST_BE_SET)
            password = await wizards.ask_new_console_password(self.term)
            await asyncio.to_thread(self.node.set_password, password)
            del password
            self.term.line(prompts.PASSWORD_UPDATED)
        if not self.node.installed():
            return await self._install()
        return await self._shell()

    async def _admin_password(self, intro: str) -> bool:
        """The sudo-style check both wizards start with; three wrong answers end the attempt."""
        self.term.line(intro)
        for _ in range(MAX_PASSWORD_TRIES):
            answer = await self.term.ask(prompts.ADMIN_PASSWORD, secret=True)
            if await asyncio.to_thread(self.node.check_password, answer):
                return True
            self.term.line(prompts.BAD_PASSWORD)
        self.term.line(prompts.TOO_MANY_TRIES)
        return False

    async def _install(self) -> SessionEnd:
        if not await self._admin_password(prompts.INSTALL_INTRO):
            return SessionEnd.LOGOUT
        defaults = InstallWizardAnswers(address=self.address, hostname="", domain="", netmask="255.255.255.0",
                                        gateway="")
        answers = await wizards.install_wizard(self.term, defaults, self.node.state.config.password_hash_iterations)
        await asyncio.to_thread(self.node.save_install_answers, answers)
        self.term.line(prompts.INSTALL_DONE)
        return SessionEnd.REBOOT_INSTALL

    async def _shell(self) -> SessionEnd:
        prompt = prompts.shell_prompt(self.node.hostname())
        while True:
            command = (await self.term.ask(prompt)).strip()
            if not command:
                continue
            if command in ("exit", "logout"):
                return SessionEnd.LOGOUT
            if command == "help":
                self.term.write(prompts.SHELL_HELP)
            elif command == "securitywizard":
                if await self._admin_password(prompts.SECURITY_INTRO):
                    settings = await wizards.security_wizard(self.term, self.node.security_settings())
                    await asyncio.to_thread(self.node.save_security_settings, settings)
                    self.term.line(prompts.SECURITY_DONE)
                    return SessionEnd.REBOOT_SECURITY
            else:
                self.term.line(f"-bash: {command.split()[0]}: command not found")
