"""Use the lab namespace from a process that did not create it (the node agents).

:class:`securemode.infra.netns.NetNamespace` is written for the process that owns the namespace (its ``down``
deletes it). The lab namespace is owned by the netns keeper process; node agents only open sockets
in it, so they get this view of it, whose ``down`` never deletes anything.
"""

from __future__ import annotations

from securemode.infra.netns import _NETNS_DIR, NetNamespace, NetnsError


class AttachedNamespace(NetNamespace):
    """An existing namespace, by name; sockets and commands work, deletion is left to its owner."""

    def __init__(self, name: str, address: str) -> None:
        super().__init__()
        if not (_NETNS_DIR / name).exists():
            raise NetnsError(f"namespace {name} does not exist")
        self.name = name
        self.address = address
        # NetNamespace tracks "up" privately; this view is up from birth (the namespace exists).
        self._is_up = True

    def up(self) -> None:
        """Nothing to create: the keeper made the namespace."""

    def down(self) -> None:
        """Forget the namespace without deleting it (its owner does that)."""
        self._is_up = False
