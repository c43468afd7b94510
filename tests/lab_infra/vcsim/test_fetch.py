"""The Fetch fix: pyVmomi >= 8 reads every property through Fetch; unset ones must read as None."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize("prop", ["resourceConfig", "snapshot", "parentVApp", "rootSnapshot"])
def test_unset_vm_property_reads_as_none(vcsim_vm: Any, prop: str) -> None:
    assert getattr(vcsim_vm, prop) in (None, [])


def test_connection_survives_unset_reads(vcsim_vm: Any) -> None:
    for _ in range(3):
        assert vcsim_vm.resourceConfig is None
    assert vcsim_vm.name  # the same session still answers


def test_set_property_still_reads(vcsim_host: Any) -> None:
    assert vcsim_host.summary.config.name
