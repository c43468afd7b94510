"""What can go wrong at the console, each naming what was expected (never a secret)."""

from __future__ import annotations


class ConsoleError(Exception):
    """Base of every console failure; the message is safe to show and to log."""


class HostKeyNotPinned(ConsoleError):
    """No host key is pinned for this node: run the explicit pin step first (never trust on first use)."""


class HostKeyMismatch(ConsoleError):
    """The node presented a host key other than the pinned one: refuse (fail closed)."""


class LoginRefused(ConsoleError):
    """The node refused the admin login (wrong password, or the account is disabled)."""


class NodeUnreachable(ConsoleError):
    """No SSH service answered (connection refused, timed out, or the node is rebooting)."""


class PromptNotSeen(ConsoleError):
    """The expected prompt did not appear in time; carries its name and the last output seen."""

    def __init__(self, expected: str, timeout_s: float, tail: str, closed: bool = False) -> None:
        self.expected = expected
        self.timeout_s = timeout_s
        self.tail = tail
        self.closed = closed
        how = "the session closed" if closed else f"nothing matched within {timeout_s:g} s"
        super().__init__(f"console prompt not seen: expected {expected}; {how}; last output: {tail!r}")


class AnswerRejected(ConsoleError):
    """The node asked the same question again after our answer: it did not accept it."""

    def __init__(self, question: str, reply: str) -> None:
        self.question = question
        self.reply = reply
        super().__init__(f"the node rejected the answer to '{question}': {reply!r}")


class WizardMismatch(ConsoleError):
    """The wizard on the node does not ask what the guide's table lists (a question was missing)."""
