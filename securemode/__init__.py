"""securemode: deploy Pexip Infinity on ESXi in secure mode and keep proving it."""

__version__ = "0.1.0"
