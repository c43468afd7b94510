"""The engine killed during an OVA upload: run the nodes stage's steps (no Prefect) and stall for good at the
first upload progress, which is printed so the parent test can kill this process by its PID right then.

Usage: python -m tests.e2e.nodes_upload_child SITE_FILE
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from securemode.engine import EngineContext, run_steps_without_prefect
from securemode.flows.stages import nodes
from securemode.site_loader import load_site
from securemode.tasks.nodes import deploy

PROGRESS = "upload progress"


def _stall(name: str) -> Callable[[int], None]:
    def report(pct: int) -> None:
        print(f"{PROGRESS} {name} {pct}%", flush=True)
        time.sleep(3600)  # mid-upload: the lease is open and the VM exists; the parent kills us here

    return report


def main(site_file: str) -> None:
    deploy.progress_reporter = _stall  # type: ignore[assignment]
    run_steps_without_prefect(nodes.SPEC.steps, EngineContext(site=load_site(Path(site_file)), apply=True))
    print("finished without being killed", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
