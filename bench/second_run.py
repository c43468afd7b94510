"""A second `run` with nothing to change, and `plan`, each against `verify` of the same lab in one run.

Starts the lab (`securemode lab up`, own state folder), converges it with one `run` (the lab operator's
approvals, as bin/main gives), then times, through the CLI as a user runs them: `verify` (the baseline:
a second run must at least verify every control), a second `run`, and `plan`. A second run adds only
reads that find nothing to change, so it should cost little over verify; plan should cost no more.
Last, one more second run under cProfile shows where its time goes. Prints ratios; asserts no time.

    .venv/bin/python -m bench.second_run [--nodes 2] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.lab_runs import OPERATOR, SECUREMODE, lab

STATE = Path(tempfile.mkdtemp(prefix="securemode-bench-second-run-"))
WHERE = r"flows/stage.py|tasks/|verifiers/|flows/stages/|prefect/(task|flow)_engine.py:\d+\(run_(task|flow)_sync"


def timed(*args: str) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run([SECUREMODE, *args], capture_output=True, text=True, timeout=1800, check=False)
    return time.perf_counter() - started, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ["SECUREMODE_STATE_DIR"] = str(STATE)
    out = lab("up", "--nodes", str(args.nodes))
    site = next(line[6:] for line in out.splitlines() if line.startswith("site: "))
    try:
        first, code = timed("run", "--site", site, *OPERATOR)
        print(f"first run (converges the lab): {first:.1f} s, exit {code}", flush=True)
        times: dict[str, list[float]] = {"verify": [], "run": [], "plan": []}
        codes: dict[str, int] = {}
        for _ in range(args.repeat):
            for kind in times:
                extra = OPERATOR if kind == "run" else []
                took, codes[kind] = timed(kind, "--site", site, *extra)
                times[kind].append(took)
        profile = STATE / "second-run.prof"
        subprocess.run(
            [sys.executable, "-m", "cProfile", "-o", str(profile), SECUREMODE, "run", "--site", site, *OPERATOR],
            capture_output=True,
            timeout=1800,
            check=False,
        )
    finally:
        lab("down")
        subprocess.run([SECUREMODE, "server", "stop"], capture_output=True, timeout=120, check=False)
    verify, second, plan = (statistics.median(times[k]) for k in ("verify", "run", "plan"))
    print(
        f"median of {args.repeat}: verify {verify:.1f} s (exit {codes['verify']}), second run {second:.1f} s "
        f"(exit {codes['run']}), plan {plan:.1f} s (exit {codes['plan']})"
    )
    print(f"second run / verify: {second / verify:.2f}x; plan / verify: {plan / verify:.2f}x (target: at most 1.0x)")
    print(f"second run: {second:.1f} s (target: under 15 s on an idle machine; printed, never asserted)")
    print("where a second run's time goes (cumulative seconds, main thread):")
    pstats.Stats(str(profile), stream=sys.stdout).sort_stats("cumulative").print_stats(WHERE, 25)
    shutil.rmtree(STATE, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
