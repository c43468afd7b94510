"""vSphere lab: vcsim built from Debian's govmomi with the ESXi hardening API it lacks."""

from securemode.infra.vcsim.launcher import Vcsim, VcsimError, VcsimOptions, ensure_built, start_vcsim

__all__ = ["Vcsim", "VcsimError", "VcsimOptions", "ensure_built", "start_vcsim"]
