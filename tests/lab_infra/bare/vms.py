"""Someone else's vSphere session on the bare lab's host: create, power and list VMs behind the engine's back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pyVim.connect import Disconnect, SmartConnect
from pyVim.task import WaitForTask

from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.vsphere.trust import pinned_context
from securemode.vsphere.vmodl import vim


@contextmanager
def host_session(lab: RunningLab) -> Iterator[Any]:
    vcsim = lab.part("vcsim")
    sdk = vcsim.endpoints["sdk"]
    si = SmartConnect(  # type: ignore[no-untyped-call]
        host=sdk.host,
        port=sdk.port,
        user=vcsim.facts["username"],
        pwd=lab.secret("vsphere-password"),
        sslContext=pinned_context(vcsim.facts["tls_sha256"]),
    )
    try:
        yield si
    finally:
        Disconnect(si)  # type: ignore[no-untyped-call]


def vms(si: Any) -> dict[str, Any]:
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        return {vm.name: vm for vm in view.view}
    finally:
        view.Destroy()


def create_vm(si: Any, name: str) -> Any:
    """An empty VM named after a node (what the engine's OVA import makes, minus the disk)."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
    host = view.view[0]
    view.Destroy()
    spec = vim.vm.ConfigSpec(name=name, numCPUs=1, memoryMB=256, files=vim.vm.FileInfo(vmPathName="[LocalDS_0]"))
    WaitForTask(
        content.rootFolder.childEntity[0].vmFolder.CreateVM_Task(  # type: ignore[no-untyped-call]
            config=spec, pool=host.parent.resourcePool, host=host
        )
    )
    return vms(si)[name]


def power(vm: Any, on: bool) -> None:
    WaitForTask(vm.PowerOnVM_Task() if on else vm.PowerOffVM_Task())  # type: ignore[no-untyped-call]
