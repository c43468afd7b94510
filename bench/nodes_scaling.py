"""The nodes stage deploying nine conferencing nodes against deploying one, on the same bare lab in one run.

It starts a bare lab with ten conferencing nodes in its site (`securemode lab up --profile bare --nodes 10`,
own state folder), brings the Management Node up from the empty host (host, vms and bootstrap, with the lab
operator's approvals as bin/main gives them), then times two runs of the `nodes` stage through the CLI:

* one   — a site file listing only the first node: one node registered, its OVA downloaded, imported,
          hardened, powered on and waited for until DEPLOYED/SYNCED;
* nine  — the lab's whole site file: the first node is already there (checked, not redeployed) and the other
          nine deploy concurrently, under the site's deploy limit.

The ratio nine/one is the figure (goal: under 2x, since the nodes deploy at once). Both runs pay the same
CLI and Prefect start-up, so the ratio is the stage's own scaling. Prints the lab's wall times as well.

    .venv/bin/python -m bench.nodes_scaling [--nodes 10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

STATE = Path(tempfile.mkdtemp(prefix="securemode-bench-nodes-"))
os.environ["SECUREMODE_STATE_DIR"] = str(STATE)
from bench.lab_runs import OPERATOR, SECUREMODE, lab  # noqa: E402


def run(site: Path, stages: str) -> float:
    """Seconds one `securemode run` of ``stages`` took; fails loudly when a control does not hold."""
    start = time.perf_counter()
    proc = subprocess.run(
        [SECUREMODE, "run", "--site", str(site), "--stage", stages, *OPERATOR],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(
            f"`securemode run --stage {stages}` on {site.name} exited {proc.returncode}:\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return took


def first_node_only(site: Path) -> Path:
    """The lab's site file with its first conferencing node only, beside it (relative paths still resolve)."""
    doc = yaml.safe_load(site.read_text())
    doc["conferencing_nodes"] = doc["conferencing_nodes"][:1]
    one = site.with_name(f"one-node-{site.name}")
    one.write_text(yaml.safe_dump(doc, sort_keys=False))
    return one


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10, help="conferencing nodes in the lab's site (first + rest)")
    args = parser.parse_args()
    out = lab("up", "--profile", "bare", "--nodes", str(args.nodes))
    try:
        site = Path(next(line[6:] for line in out.splitlines() if line.startswith("site: ")))
        one_site = first_node_only(site)
        management = run(one_site, "host,vms,bootstrap")
        one = run(one_site, "nodes")
        rest = run(site, "nodes")
        again = run(site, "nodes")
    finally:
        lab("down")
        # the CLI runs started the managed Prefect server under this bench's own state folder: stop it (by its PID)
        subprocess.run([SECUREMODE, "server", "stop"], capture_output=True, timeout=120, check=False)
    print(f"management node from an empty host (host, vms, bootstrap): {management:.1f}s")
    print(f"nodes stage, 1 node deployed:                 {one:.1f}s")
    print(f"nodes stage, {args.nodes - 1} nodes deployed (1 checked):    {rest:.1f}s")
    print(f"nodes stage, nothing to deploy ({args.nodes} checked):  {again:.1f}s")
    print(f"ratio {args.nodes - 1} nodes / 1 node: {rest / one:.2f}x (goal < 2x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
