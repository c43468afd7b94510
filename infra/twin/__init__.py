"""Pexip Infinity Management Node twin (issue #4): Management API, admin web surface, TLS posture.

Public interface: `TwinManagementNode` (embeddable server), `TwinState` (state read/write interface for
node processes and the console twin), `TwinConfig` (every guessed behaviour), fault rules.
"""

from securemode.infra.twin.config import TwinConfig
from securemode.infra.twin.faults import (
    FaultInjector,
    FaultRule,
    latency,
    reset_connection,
    too_many_requests,
    unavailable,
)
from securemode.infra.twin.node import TwinManagementNode
from securemode.infra.twin.state.settings import InstallWizardAnswers, SecuritySettings
from securemode.infra.twin.state.twin_state import TwinState

__all__ = [
    "FaultInjector",
    "FaultRule",
    "InstallWizardAnswers",
    "SecuritySettings",
    "TwinConfig",
    "TwinManagementNode",
    "TwinState",
    "latency",
    "reset_connection",
    "too_many_requests",
    "unavailable",
]
