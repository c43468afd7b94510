"""vcsim lab tests: each module gets a fresh simulator from securemode.infra.vcsim.pytest_fixtures."""

from securemode.infra.vcsim.pytest_fixtures import (  # noqa: F401
    vcsim,
    vcsim_binary,
    vcsim_factory,
    vcsim_host,
    vcsim_si,
    vcsim_vm,
)
