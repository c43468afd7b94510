"""The event-driven operations against a full pipeline run, on one bare lab with its contingency deployment.

It starts a bare lab with a fallback (`securemode lab up --profile bare --nodes N --contingency`, own state
folder) and times, through the CLI as an operator runs them:

* pipeline — `securemode run`: the primary from an empty host, then the fallback built, proven and powered off;
* failover — `securemode failover`: the primary isolated (powered off), the fallback powered on, waited for and
             proven by behaviour, the licence transfer attested; the command prints the RTO it measured;
* rebuild  — `securemode rebuild`: the primary quarantined, every credential rotated, certificates revoked,
             the primary redeployed from its OVA by the whole pipeline, verified, the fallback failed back (off).

Each is printed with its ratio to the pipeline run of the same lab (the machines are noisy: the ratio is the
figure). The failover's RTO is the flow's own measure, from its start to the verified fallback.

    .venv/bin/python -m bench.operations [--nodes 2]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

STATE = Path(tempfile.mkdtemp(prefix="securemode-bench-operations-"))
os.environ["SECUREMODE_STATE_DIR"] = str(STATE)
from bench.lab_runs import OPERATOR, SECUREMODE, lab  # noqa: E402

RTO = re.compile(r"RTO: ([0-9.]+) s")


def timed(*args: str) -> tuple[float, str]:
    """Seconds one CLI command took, and what it printed; fails loudly when it does not exit 0."""
    start = time.perf_counter()
    proc = subprocess.run([SECUREMODE, *args], capture_output=True, text=True, timeout=3600, check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(
            f"`securemode {args[0]}` exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return took, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2, help="conferencing nodes of the primary (and the fallback)")
    args = parser.parse_args()
    out = lab("up", "--profile", "bare", "--nodes", str(args.nodes), "--contingency")
    try:
        site = next(line[6:] for line in out.splitlines() if line.startswith("site: "))
        pipeline, _ = timed("run", "--site", site, *OPERATOR)
        failover, said = timed("failover", "--site", site, "--reason", "bench: incident", "--by", "bench",
                               "--attest", "contingency.licence-transfer", "--approver", "bench")
        rebuild, _ = timed("rebuild", "--site", site, "--reason", "bench: compromise", "--declared-by", "bench",
                           "--approve", "rebuild.failback", *OPERATOR)
    finally:
        lab("down")
        # the CLI runs started the managed Prefect server under this bench's own state folder: stop it (by its PID)
        subprocess.run([SECUREMODE, "server", "stop"], capture_output=True, timeout=120, check=False)
    found = RTO.search(said)
    rto = float(found.group(1)) if found else float("nan")
    print(f"pipeline (primary from an empty host, fallback built and off): {pipeline:.1f}s")
    print(f"failover command: {failover:.1f}s; RTO measured by the flow: {rto:.1f}s")
    print(f"rebuild command (quarantine, rotation, redeploy, verify, failback): {rebuild:.1f}s")
    print(f"ratio RTO / pipeline: {rto / pipeline:.2f}x")
    print(f"ratio rebuild / pipeline: {rebuild / pipeline:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
