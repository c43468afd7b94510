"""Re-verification at 1, 10 and 20 conferencing nodes: the engine against probes run one after another.

For each size it starts the lab (`securemode lab up --nodes N`, own state folder), runs the whole pipeline
once so that every control holds (with the lab operator's approvals, as bin/main does), then measures:

* engine  — the `reverify` flow through the local Prefect server (probes run concurrently);
* baseline — the same stages' verify functions with SECUREMODE_PROBE_WORKERS=1 (one after another);
* floor   — the slowest single result (a control on a target: the span of its proofs), measured in the
            one-after-another run where nothing slows it down
            (no schedule can beat it; the engine run's own slowest probe is printed too, for comparison).

It prints the ratios, the slowest probes of the largest size (where the time goes), and the peak memory
of the engine process plus the Prefect server's. Targets: the engine within 1.5x the slowest single
probe at every size; engine plus server under 500 MB at 20 nodes.

    .venv/bin/python -m bench.reverify_scaling [--sizes 1,10,20] [--stages pki,platform] (default: every stage)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STATE = Path(tempfile.mkdtemp(prefix="securemode-bench-reverify-"))
os.environ["SECUREMODE_STATE_DIR"] = str(STATE)
from securemode.prefect_env import apply_prefect_settings  # noqa: E402 - before Prefect is imported

apply_prefect_settings()
from bench.lab_runs import OPERATOR, SECUREMODE, lab  # noqa: E402


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and every process below it (the Prefect server and its workers)."""
    total_kb, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total_kb += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return total_kb / 1024


def main() -> int:
    from securemode.catalogue import Stage

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,20")
    parser.add_argument("--stages", default=",".join(s.value for s in Stage))  # every stage
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    stages = args.stages.split(",")

    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from securemode.deployments import prefect_server
    from securemode.flows import stages as registry
    from securemode.flows.reverify import run_reverify
    from securemode.parallel import WORKERS_ENV
    from securemode.site_loader import load_site

    info, started = prefect_server.ensure_running()
    rows = []
    try:
        for size in sizes:
            out = lab("up", "--nodes", str(size))
            site = Path(next(line[6:] for line in out.splitlines() if line.startswith("site: ")))
            for engine_state in ("pexip", "attestations", "reverify"):  # pins etc. of the previous lab
                shutil.rmtree(STATE / engine_state, ignore_errors=True)
            converge = subprocess.run([SECUREMODE, "run", "--site", str(site), *OPERATOR], capture_output=True,
                                      text=True, timeout=1800, check=False)
            print(f"{size} node(s): pipeline run exit {converge.returncode}", flush=True)
            loaded = load_site(site)
            with temporary_settings(updates={PREFECT_API_URL: info.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                run_reverify(site_path=str(site), stage_names=stages)  # warm-up: imports, sessions, SNMP MIBs
                t = time.perf_counter()
                outcome = run_reverify(site_path=str(site), stage_names=stages)
                engine = time.perf_counter() - t
            report = (Path(outcome.report_dir) / "report.json").read_text()
            from securemode.reports.model import Report

            results = Report.model_validate_json(report).results
            contended = max(r.duration_s for r in results)  # in the engine run: slowed by its neighbours
            slowest = sorted(results, key=lambda r: r.duration_s, reverse=True)[:8]
            server_mb = tree_rss_mb(info.pid)
            os.environ[WORKERS_ENV] = "1"
            t = time.perf_counter()
            alone = [r for stage in stages for r in registry.load(Stage(stage)).verify(loaded)]
            baseline = time.perf_counter() - t
            os.environ.pop(WORKERS_ENV)
            # The floor: the slowest probe measured with nothing else running. A probe slowed down by its
            # neighbours in the engine run (CPU, the GIL) would flatter the ratio.
            floor = max(r.duration_s for r in alone)
            slowest_alone = sorted(alone, key=lambda r: r.duration_s, reverse=True)[:3]
            passing = outcome.counts.get("PASS", 0) + outcome.counts.get("NOT_APPLICABLE", 0)
            rows.append((size, engine, baseline, floor, sum(outcome.counts.values()), passing, server_mb))
            print(f"{size} node(s): slowest probe alone {floor:.2f} s, slowest of the engine run {contended:.2f} s",
                  flush=True)
            lab("down")
    finally:
        if started:
            prefect_server.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    first = rows[0][1]
    print(f"{'nodes':>5} {'results':>7} {'pass+na':>7} {'engine s':>9} {'one-by-one s':>12} {'floor s':>8} "
          f"{'speed-up':>8} {'vs floor':>8} {'vs 1 node':>9}")
    for size, engine, baseline, floor, count, passing, _server in rows:
        print(f"{size:>5} {count:>7} {passing:>7} {engine:>9.2f} {baseline:>12.2f} {floor:>8.2f} "
              f"{baseline / engine:>7.1f}x {engine / floor:>7.1f}x {engine / first:>8.1f}x")
    print(f"where the time goes at {rows[-1][0]} node(s), the slowest probes of the engine run:")
    for r in slowest:
        print(f"  {r.duration_s:6.2f} s  {r.status.value:<14} {r.control} [{r.target}]")
    print("the slowest probes run alone (one by one, the floor):")
    for r in slowest_alone:
        print(f"  {r.duration_s:6.2f} s  {r.status.value:<14} {r.control} [{r.target}]")
    size, engine, floor, server_mb = rows[-1][0], rows[-1][1], rows[-1][3], rows[-1][6]
    print(f"engine / slowest single probe at {size} node(s): {engine / floor:.2f}x (target 1.5x)")
    print(f"peak memory: engine process {peak_mb:.0f} MiB + Prefect server {server_mb:.0f} MiB = "
          f"{peak_mb + server_mb:.0f} MiB (target 500)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
