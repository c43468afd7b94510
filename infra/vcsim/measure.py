"""Print the lab's vcsim figures: start time and 100 ReconfigVM_Task round trips.

Run: ``.venv/bin/python -m securemode.infra.vcsim.measure [--runs N]``. Every simulator it starts is stopped.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from securemode.infra.vcsim.launcher import VcsimOptions, ensure_built, start_vcsim
from securemode.infra.vcsim.pytest_fixtures import connect, first_object, run_task


def start_seconds(runs: int) -> list[float]:
    """Wall time from spawn to a verified TLS answer, per run."""
    binary = ensure_built()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sim = start_vcsim(VcsimOptions(), binary=binary)
        times.append(time.perf_counter() - t0)
        sim.stop()
    return times


def reconfig_seconds(count: int) -> float:
    """Wall time of `count` ReconfigVM_Task calls (cpu + memory allocation) each waited for."""
    from pyVim.connect import Disconnect
    from pyVmomi import vim as pyvmomi_vim

    vim: Any = pyvmomi_vim  # pyVmomi types are generated at run time
    with start_vcsim(VcsimOptions(), binary=ensure_built()) as sim:
        si = connect(sim)
        vm: Any = first_object(si, vim.VirtualMachine)
        t0 = time.perf_counter()
        for i in range(count):
            spec = vim.vm.ConfigSpec(
                cpuAllocation=vim.ResourceAllocationInfo(reservation=100 + i, limit=-1),
                memoryAllocation=vim.ResourceAllocationInfo(reservation=i % 32),
            )
            run_task(vm.ReconfigVM_Task(spec=spec))
        elapsed = time.perf_counter() - t0
        Disconnect(si)  # type: ignore[no-untyped-call]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    starts = start_seconds(args.runs)
    print(
        f"start to verified TLS: median {statistics.median(starts) * 1000:.0f} ms"
        f" (min {min(starts) * 1000:.0f}, max {max(starts) * 1000:.0f}, n={len(starts)})"
    )
    for _ in range(max(1, args.runs // 2)):
        print(f"100 x ReconfigVM_Task + wait: {reconfig_seconds(100):.2f} s")


if __name__ == "__main__":
    main()
