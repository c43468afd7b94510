"""Engine overhead: the pipeline's wall time minus the time spent inside task bodies, per task.

Runs the same small real stage (tests/pipeline/device_stage.py: a JSON file as the target) through the
Prefect pipeline on the managed local server, and directly without Prefect as the baseline, in one run.
Prints ratios, never asserts absolute times (these machines are noisy), and a profile of one more
pipeline run: where Prefect spends the time (task runs, flow runs, artifacts, API calls).

    .venv/bin/python -m bench.engine_overhead [--runs 5]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SECUREMODE_STATE_DIR", tempfile.mkdtemp(prefix="securemode-bench-"))
from securemode.prefect_env import apply_prefect_settings  # (imported before Prefect on purpose)

apply_prefect_settings()
WHERE = r"prefect/(task_engine|flow_engine|artifacts|client/orchestration/_\w+/client)|flows/(stage|pipeline)"


WIDE = 41  # steps in the wide stage of marginal_task_ms


def marginal_task_ms(site: Path, runs: int) -> float:
    """What one more task run costs the engine: a stage of WIDE read-only steps against a stage of one, both
    in one stage flow of a pipeline run, so the flow runs' own cost cancels out (median of ``runs`` each)."""
    from securemode.catalogue import Stage
    from securemode.engine import EnsureStep, StageSpec, plan_of
    from securemode.flows import stages
    from securemode.flows.pipeline import run_pipeline
    from tests.pipeline import device_stage

    def stage_of(width: int) -> StageSpec:
        steps = tuple(EnsureStep(name=f"read-{i}", plan=lambda _ctx, _res: plan_of()) for i in range(width))
        return StageSpec(stage=Stage.HOST, steps=steps, verify=device_stage.never_ok)

    def wall(width: int) -> float:
        times = []
        with stages.substituted({Stage.HOST: stage_of(width)}):
            run_pipeline(site_path=str(site), stage_names=["host"], mode="run")  # warm-up
            for _ in range(runs):
                t = time.perf_counter()
                run_pipeline(site_path=str(site), stage_names=["host"], mode="run")
                times.append(time.perf_counter() - t)
        return statistics.median(times)

    return (wall(WIDE) - wall(1)) / (WIDE - 1) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from prefect.logging import disable_run_logger
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from securemode.catalogue import Stage
    from securemode.deployments import prefect_server
    from securemode.engine import EngineContext, PreApproved
    from securemode.flows import stages
    from securemode.flows.pipeline import run_pipeline
    from securemode.site_loader import load_site
    from tests.pipeline import device_stage
    from tests.unit.sites import SECRET_ENV, example_document, write_site

    os.environ.update(SECRET_ENV)
    work = Path(tempfile.mkdtemp(prefix="securemode-bench-site-"))
    site = write_site(work, {**example_document(), "replication_wait_s": 0})
    t0 = time.perf_counter()
    info, started = prefect_server.ensure_running()
    print(f"prefect server ready in {time.perf_counter() - t0:.1f} s (started={started})")

    def direct() -> float:
        (work / "device.json").unlink(missing_ok=True)
        loaded = load_site(site)
        t = time.perf_counter()
        ctx = EngineContext(site=loaded, apply=True, gate=PreApproved({"host.lockdown"}, who="bench",
                                                                      attest_controls={"vms.bios.supervisor-password"}))
        for spec in (device_stage.SPEC, device_stage.SECOND):
            for step in spec.steps:
                step.run(ctx)
            spec.verify(loaded)
        return time.perf_counter() - t

    walls, overheads, per_task = [], [], []
    try:
        with stages.substituted({Stage.HOST: device_stage.SPEC, Stage.VMS: device_stage.SECOND}), \
                temporary_settings(updates={PREFECT_API_URL: info.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            run_pipeline(site_path=str(site), stage_names=["host", "vms"], mode="plan")  # warm-up
            for _ in range(args.runs):
                (work / "device.json").unlink(missing_ok=True)
                t = time.perf_counter()
                outcome = run_pipeline(site_path=str(site), stage_names=["host", "vms"], mode="run",
                                                 approve=["host.lockdown"], attest=["vms.bios.supervisor-password"])
                wall = time.perf_counter() - t
                bodies = sum(sum(s.task_body_s.values()) for s in outcome.stages)
                tasks = sum(len(s.task_body_s) for s in outcome.stages) + 1  # + the gated step's plan run
                walls.append(wall)
                overheads.append(wall - bodies)
                per_task.append((wall - bodies) / tasks)
            marginal = marginal_task_ms(site, args.runs)
            (work / "device.json").unlink(missing_ok=True)
            profile = cProfile.Profile()
            profile.runcall(run_pipeline, site_path=str(site), stage_names=["host", "vms"], mode="run",
                            approve=["host.lockdown"], attest=["vms.bios.supervisor-password"])
        with disable_run_logger():
            baseline = statistics.median(direct() for _ in range(args.runs))
    finally:
        if started:
            prefect_server.stop()
    wall = statistics.median(walls)
    print(f"pipeline wall (median of {args.runs}): {wall:.3f} s; direct calls without Prefect: {baseline:.4f} s")
    print(f"engine overhead: {statistics.median(overheads):.3f} s per pipeline, "
          f"{statistics.median(per_task) * 1000:.1f} ms per task (2 stage flows, {tasks} task runs)")
    print(f"ratio pipeline / direct: {wall / baseline:.1f}x")
    print(f"marginal engine cost of one more task run: {marginal:.1f} ms (a stage of {WIDE} read-only steps "
          f"against one of 1, same flows; target 25 ms)")
    print("where the time goes (one more pipeline run, cumulative seconds):")
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(WHERE, 14)
    return 0


if __name__ == "__main__":
    sys.exit(main())
