"""A lab node's "disk" belongs to the VM that first booted it, as on a real host.

On the bare profile a node's state (the twin's state folder, the console's host key, an agent's first-boot
certificate) lives in folders that outlive its processes, so a power cycle is a reboot. A *new* VM under the
node's name — a redeploy from the OVA after the old VM was renamed away — must boot an empty disk instead:
when the VM that powers a node on is not the one recorded as the owner of its folders, the folders are moved
aside to ``<folder>.vm-<old moid>`` (kept, like the old VM's disk) and the new VM becomes the owner.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from securemode.infra.lab.node_processes import ProcessSpec

log = logging.getLogger("securemode.infra.lab.vm_disks")
FILE = "disks.json"


def disk_paths(specs: list[ProcessSpec]) -> list[Path]:
    """The folders a node keeps: each process's working folder and a twin's own ``--state-dir``."""
    paths = [Path(spec.workdir) for spec in specs]
    for spec in specs:
        args = list(spec.args)
        if "--state-dir" in args:
            paths.append(Path(args[args.index("--state-dir") + 1]))
    return list(dict.fromkeys(paths))


class Disks:
    """Which VM (by managed object id) owns each node's folders; recorded in ``FILE`` beside the running file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _owners(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def attach(self, name: str, vm_id: str, specs: list[ProcessSpec]) -> list[Path]:
        """Make ``vm_id`` the owner of ``name``'s folders before it boots; returns the folders moved aside
        (another VM owned them)."""
        owners = self._owners()
        owner = owners.get(name)
        moved: list[Path] = []
        if owner is not None and owner != vm_id:
            for folder in disk_paths(specs):
                if folder.exists():
                    target = folder.with_name(f"{folder.name}.vm-{owner}")
                    n = 1
                    while target.exists():
                        target = folder.with_name(f"{folder.name}.vm-{owner}.{n}")
                        n += 1
                    os.replace(folder, target)
                    moved.append(target)
            log.info(
                "%s: a new VM (%s, was %s) boots an empty disk; kept %s",
                name,
                vm_id,
                owner,
                ", ".join(str(p) for p in moved) or "nothing",
            )
        if owner != vm_id:
            owners[name] = vm_id
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(owners, sort_keys=True))
            tmp.replace(self.path)
        return moved
