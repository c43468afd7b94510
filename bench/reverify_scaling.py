"""Re-verification at 1, 10 and 20 conferencing nodes: the engine against probes run one after another.

For each size it starts the lab (`securemode lab up --nodes N`, own state folder), brings the platform
stage to its configured state once, then measures in the same run:

* engine  — the `reverify` flow through the local Prefect server (probes run concurrently);
* baseline — the same stages' verify functions with SECUREMODE_PROBE_WORKERS=1 (one after another);
* floor   — the slowest single probe of the engine run (no schedule can beat it).

It prints the ratios and the engine process's peak memory. Target: 20 nodes in under 3x the time of 1.

    .venv/bin/python -m bench.reverify_scaling [--sizes 1,10,20] [--stages pki,platform]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STATE = Path(tempfile.mkdtemp(prefix="securemode-bench-reverify-"))
os.environ["SECUREMODE_STATE_DIR"] = str(STATE)
from securemode.prefect_env import apply_prefect_settings  # noqa: E402 - before Prefect is imported

apply_prefect_settings()
SECUREMODE = str(Path(sys.executable).with_name("securemode"))


def lab(*args: str) -> str:
    proc = subprocess.run([SECUREMODE, "lab", *args], capture_output=True, text=True, check=True, timeout=300)
    return proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,20")
    parser.add_argument("--stages", default="pki,platform")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    stages = args.stages.split(",")

    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows.reverify import reverify
    from securemode import prefect_server
    from securemode import stages as registry
    from securemode.catalogue import Stage
    from securemode.parallel import WORKERS_ENV
    from securemode.site_loader import load_site

    info, started = prefect_server.ensure_running()
    rows = []
    try:
        for size in sizes:
            out = lab("up", "--nodes", str(size))
            site = Path(next(line[6:] for line in out.splitlines() if line.startswith("site: ")))
            subprocess.run([SECUREMODE, "run", "--site", str(site), "--stage", "platform"], capture_output=True,
                           timeout=900, check=False)
            loaded = load_site(site)
            with temporary_settings(updates={PREFECT_API_URL: info.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                reverify(site_path=str(site), stage_names=stages)  # warm-up: imports, sessions, SNMP MIBs
                t = time.perf_counter()
                outcome = reverify(site_path=str(site), stage_names=stages)
                engine = time.perf_counter() - t
            report = (Path(outcome.report_dir) / "report.json").read_text()
            from securemode.reports.model import Report

            floor = max(r.duration_s for r in Report.model_validate_json(report).results)
            os.environ[WORKERS_ENV] = "1"
            t = time.perf_counter()
            for stage in stages:
                registry.load(Stage(stage)).verify(loaded)
            baseline = time.perf_counter() - t
            os.environ.pop(WORKERS_ENV)
            rows.append((size, engine, baseline, floor, sum(outcome.counts.values())))
            lab("down")
    finally:
        if started:
            prefect_server.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    first = rows[0][1]
    print(f"{'nodes':>5} {'results':>7} {'engine s':>9} {'one-by-one s':>12} {'floor s':>8} "
          f"{'speed-up':>8} {'vs floor':>8} {'vs 1 node':>9}")
    for size, engine, baseline, floor, count in rows:
        print(f"{size:>5} {count:>7} {engine:>9.2f} {baseline:>12.2f} {floor:>8.2f} {baseline / engine:>7.1f}x "
              f"{engine / floor:>7.1f}x {engine / first:>8.1f}x")
    print(f"peak memory of the engine process: {peak_mb:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
