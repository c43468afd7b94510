"""Resource declarations grouped by concern; `build_registry` assembles them for one TwinConfig."""

from __future__ import annotations

from securemode.infra.twin.api.resources import access, certificates, licence, network, platform, status
from securemode.infra.twin.api.spec import Registry
from securemode.infra.twin.config import TwinConfig


def build_registry(config: TwinConfig) -> Registry:
    registry = Registry()
    for module in (platform, network, certificates, access, licence, status):
        for spec in module.specs(config):
            registry.add(spec)
    return registry
