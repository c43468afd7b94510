"""Waiting for vSphere tasks, with an error that says which action failed and why."""

from __future__ import annotations

import time
from typing import Any

from securemode.vsphere.errors import VSphereTaskError
from securemode.vsphere.vmodl import fault_text, vim

DEFAULT_TIMEOUT_S = 600.0


def wait_for_task(task: Any, action: str, timeout: float = DEFAULT_TIMEOUT_S) -> Any:
    """Poll ``task`` until it ends; return its result, or raise naming ``action`` and the fault."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        info = task.info
        if info.state == vim.TaskInfo.State.success:
            return info.result
        if info.state == vim.TaskInfo.State.error:
            fault = info.error
            raise VSphereTaskError(f"{action} failed: {fault_text(fault) if fault else 'no fault given'}")
        if time.monotonic() > deadline:
            raise VSphereTaskError(f"{action} did not finish within {timeout:.0f} s (task {task._moId})")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
