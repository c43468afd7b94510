"""The engine killed during a rebuild: run the rebuild flow and stall for good at a chosen point, printing a marker
so the parent test can kill this process by its PID right then.

Usage: python -m tests.e2e.rebuild_child SITE_FILE quarantine|rotation
  quarantine  stall after the first VM is quarantined (the others not yet)
  rotation    stall after the second credential is written (the others still hold their old values)
"""

from __future__ import annotations

import sys
import time
from typing import Any

from securemode import secret_store
from securemode.flows.rebuild import run_rebuild
from securemode.tasks.rebuild import quarantine
from tests.e2e.pipeline_runs import APPROVER, ATTEST, GATES

STALLED = "stalled for the kill"
FAILBACK = "rebuild.failback"


def _stall_after(calls: int, original: Any) -> Any:
    seen = []

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        seen.append(1)
        if len(seen) >= calls:
            print(STALLED, flush=True)
            time.sleep(3600)
        return result

    return wrapped


def main(site_file: str, where: str) -> None:
    if where == "quarantine":
        import securemode.flows.rebuild as flow_module

        flow_module.quarantine_vm = _stall_after(1, quarantine.quarantine_vm)  # type: ignore[attr-defined]
    else:
        secret_store.write = _stall_after(2, secret_store.write)  # type: ignore[assignment]
    run_rebuild(
        site_path=site_file,
        reason="e2e: compromise declared",
        declared_by=APPROVER,
        approve=[*GATES, FAILBACK],
        attest=ATTEST,
        approver=APPROVER,
    )
    print("finished without being killed", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
