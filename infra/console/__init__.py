"""The admin console of a twin Management Node over SSH: first-login password, installation wizard,
`securitywizard`, and the lockout that follows "Disable system administrator account".

Public interface: :class:`ConsoleServer` (embeddable, start()/stop()) and :class:`ConsoleNode`
(the console's view of the twin's state, for the lab and tests).
"""

from securemode.infra.console.node import ConsoleNode
from securemode.infra.console.server import ConsoleServer

__all__ = ["ConsoleNode", "ConsoleServer"]
