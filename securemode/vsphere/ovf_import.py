"""Deploying an OVA: OvfManager.CreateImportSpec, ResourcePool.ImportVApp, then the disks through the
HttpNfcLease, reporting progress to the lease and to the caller.

:func:`import_spec` only asks the host to validate the descriptor (it changes nothing), so ``plan``
can use it; :func:`import_vapp` creates the VM.
"""

from __future__ import annotations

import http.client
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from securemode.vsphere.errors import VSphereTaskError
from securemode.vsphere.ova import OvaFile, OvaPackage, open_file
from securemode.vsphere.session import VSphereSession
from securemode.vsphere.vmodl import fault_text, vim, vmodl

CHUNK = 1 << 20
LEASE_READY_TIMEOUT_S = 120.0
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ImportPlan:
    """The host's answer to CreateImportSpec: the spec to import and the files to upload."""

    spec: Any
    file_items: tuple[Any, ...]
    warnings: tuple[str, ...]


class OvfRejected(ValueError):
    """The host refused the descriptor; the message lists its reasons."""


def import_spec(session: VSphereSession, package: OvaPackage, *, vm_name: str, pool: Any, datastore: Any,
                network: Any | None, provisioning: str = "thick") -> ImportPlan:
    """Ask the host to turn the descriptor into an import spec; raise :class:`OvfRejected` on its errors."""
    mapping = [vim.OvfManager.NetworkMapping(name=name, network=network) for name in package.networks if network]
    params = vim.OvfManager.CreateImportSpecParams(entityName=vm_name, diskProvisioning=provisioning,
                                                   networkMapping=mapping)
    try:
        result = session.content.ovfManager.CreateImportSpec(package.descriptor, pool, datastore, params)
    except vmodl.fault.InvalidArgument as exc:
        raise OvfRejected(fault_text(exc)) from None
    errors = [e.localizedMessage or fault_text(e.fault) for e in result.error or []]
    if errors or result.importSpec is None:
        raise OvfRejected("; ".join(errors) or "the host returned no import spec")
    warnings = tuple(w.localizedMessage or fault_text(w.fault) for w in result.warning or [])
    _disks_in_the_vms_folder(result.importSpec)
    return ImportPlan(spec=result.importSpec, file_items=tuple(result.fileItem or []), warnings=warnings)


def _disks_in_the_vms_folder(spec: Any) -> None:
    """Let the host place each new disk in the VM's own folder, which it names uniquely: a disk path that names
    a folder after the VM (as some hosts' import specs do) collides with the files of an earlier VM of that name
    renamed away (a quarantined VM keeps its folder), and the import fails."""
    config = getattr(spec, "configSpec", None)
    for change in (config.deviceChange if config is not None else None) or []:
        backing: Any = getattr(change.device, "backing", None)
        name = getattr(backing, "fileName", None)
        if isinstance(change.device, vim.vm.device.VirtualDisk) and change.fileOperation == "create" and \
                isinstance(name, str) and "/" in name:
            backing.fileName = name.split("]", 1)[0] + "]"


def limit_disks(plan: ImportPlan, iops: int) -> int:
    """Give every disk of the VM to be imported its IOPS limit and Normal shares from the start, so the VM is
    never on the host without them (not even when the import is cut short); returns the disks limited."""
    config = getattr(plan.spec, "configSpec", None)
    limited = 0
    for change in (config.deviceChange if config is not None else None) or []:
        if isinstance(change.device, vim.vm.device.VirtualDisk):
            change.device.storageIOAllocation = vim.StorageResourceManager.IOAllocationInfo(
                limit=iops, shares=vim.SharesInfo(level="normal", shares=0))
            limited += 1
    return limited


def _wait_ready(lease: Any) -> None:
    deadline = time.monotonic() + LEASE_READY_TIMEOUT_S
    while lease.state == vim.HttpNfcLease.State.initializing:
        if time.monotonic() > deadline:
            raise VSphereTaskError("the import lease did not become ready")
        time.sleep(0.05)
    if lease.state != vim.HttpNfcLease.State.ready:
        raise VSphereTaskError(f"the import lease failed: {fault_text(lease.error) if lease.error else lease.state}")


def _upload(session: VSphereSession, url: str, package: OvaPackage, item: OvaFile, sent_before: int, total: int,
            lease: Any, progress: Progress) -> int:
    """PUT one file to its lease URL over the site's trust; return the bytes sent."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname if parts.hostname and parts.hostname != "*" else session.endpoint.host
    port = parts.port or session.endpoint.port
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    conn = http.client.HTTPSConnection(host, port, context=session.endpoint.context, timeout=300)
    sent = 0
    last_pct = -1
    try:
        conn.putrequest("PUT", path)
        conn.putheader("Content-Type", "application/x-vnd.vmware-streamVmdk")
        conn.putheader("Content-Length", str(item.size))
        conn.putheader("Cookie", session.si._stub.cookie)
        conn.endheaders()
        with open_file(package, item.name) as stream:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                conn.send(chunk)
                sent += len(chunk)
                pct = min(99, (sent_before + sent) * 100 // max(total, 1))
                if pct != last_pct:
                    lease.HttpNfcLeaseProgress(pct)
                    progress(pct)
                    last_pct = pct
        response = conn.getresponse()
        response.read()
        if response.status not in (200, 201):
            raise VSphereTaskError(f"upload of {item.name} answered HTTP {response.status} {response.reason}")
    finally:
        conn.close()
    return sent


def import_vapp(session: VSphereSession, package: OvaPackage, plan: ImportPlan, *, pool: Any, folder: Any,
                host: Any, progress: Progress | None = None) -> Any:
    """Create the VM from ``plan`` and upload its disks; return the VM. The lease is aborted on any failure."""
    report = progress or (lambda _pct: None)
    lease = pool.ImportVApp(plan.spec, folder, host)
    _wait_ready(lease)
    vm = lease.info.entity  # read before Complete: the lease object is gone afterwards
    urls = {u.importKey: u.url for u in lease.info.deviceUrl or []}
    by_name = {f.name: f for f in package.files}
    uploads = []
    for item in plan.file_items:
        if item.deviceId not in urls or item.path not in by_name:
            lease.HttpNfcLeaseAbort(vmodl.fault.SystemError(reason=f"no upload target for {item.path}"))
            raise VSphereTaskError(f"the import lease offers no upload URL for {item.path}")
        uploads.append((urls[item.deviceId], by_name[item.path]))
    total = sum(f.size for _, f in uploads)
    try:
        sent = 0
        for url, item in uploads:
            sent += _upload(session, url, package, item, sent, total, lease, report)
    except Exception as exc:
        lease.HttpNfcLeaseAbort(vmodl.fault.SystemError(reason=f"upload failed: {type(exc).__name__}"))
        raise
    lease.HttpNfcLeaseProgress(100)
    lease.HttpNfcLeaseComplete()
    report(100)
    return vm
