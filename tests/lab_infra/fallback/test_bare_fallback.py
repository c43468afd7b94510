"""``lab up --contingency`` on a bare lab: two watchers, each booting only its own deployment's VMs."""

from __future__ import annotations

from securemode.infra.lab.pytest_fixture import RunningLab
from tests.lab_infra.bare.vms import create_vm, host_session, power
from tests.lab_infra.fallback.probes import BOOT_S, node_health, port_open, running, silent
from tests.polling import wait_until


def test_the_fallback_manager_boots_while_the_primary_stays_off(bare_fallback_lab: RunningLab) -> None:
    site = bare_fallback_lab.site().site
    assert site.contingency is not None
    fallback, primary = str(site.contingency.management_node.address), str(site.management_node.address)
    assert {"power", "power-fallback"} <= set(bare_fallback_lab.manifest.parts)
    with host_session(bare_fallback_lab) as si:
        vm = create_vm(si, site.contingency.management_node.name)
        power(vm, on=True)
        wait_until(lambda: port_open(fallback, 22), BOOT_S, what="the fallback's console after power-on")
        assert list(running(bare_fallback_lab)["running"]) == ["mgr-c"]
        assert running(bare_fallback_lab, "power")["running"] == {}  # the primary's watcher boots only its own
        assert not port_open(primary, 22)
        assert node_health(bare_fallback_lab, "mgr-c").expected == "SSH console"
        assert node_health(bare_fallback_lab, "mgr").expected == "powered off (nothing runs)"
        power(vm, on=False)
        wait_until(lambda: silent(fallback, 22, 443), BOOT_S, what="nothing answering at the fallback's address")
        assert running(bare_fallback_lab)["running"] == {}
