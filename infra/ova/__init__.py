"""A small but valid OVA standing in for the Pexip Management Node OVA (vcsim discards uploaded bytes)."""

from securemode.infra.ova.build import OvaSpec, build_ova

__all__ = ["OvaSpec", "build_ova"]
