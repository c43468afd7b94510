"""The deployments of one site, defined once: `serve` runs them in-process, `deploy` puts them in a work pool.

- ``secure-mode-deployment/<site>``: the pipeline on demand (gated steps pause for approval in the UI);
- ``reverify/<site>``: re-prove every control on the site's schedule;
- ``contingency-refresh/<site>`` (a site with a contingency section): refresh the powered-off fallback on the
  site's ``contingency.refresh_cron``;
- ``failover/<site>`` (a site with a contingency section): fail over to the fallback, started by the automation
  on ``securemode.incident.declared`` (deployments/automations.py) or from the UI with a reason.
- ``rebuild/<site>``: rebuild after a compromise (started by the automation on ``securemode.compromise.declared``
  with ``reason``, ``declared_by`` and ``nodes``; the failback pauses for approval in the UI).

In a work pool the entrypoints are module paths (``securemode.flows.pipeline.secure_mode_deployment``): a worker
imports the installed project, so no image or code storage is needed for a process pool. Every run is tagged
with its site (the crashed-run check and the fleet's counts find runs by that tag).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast
from uuid import UUID

from prefect.deployments.runner import RunnerDeployment
from prefect.types.entrypoint import EntrypointType

from securemode.flows.contingency_refresh import contingency_refresh
from securemode.flows.crashed_runs import site_tag
from securemode.flows.failover import failover
from securemode.flows.pipeline import secure_mode_deployment
from securemode.flows.rebuild import rebuild
from securemode.flows.reverify import reverify
from securemode.site_loader import LoadedSite

PIPELINE = "secure-mode-deployment"
REVERIFY = "reverify"
REBUILD = "rebuild"


def site_deployments(loaded: LoadedSite, work_queue: str | None = None,
                     entrypoint: EntrypointType = EntrypointType.FILE_PATH) -> list[RunnerDeployment]:
    """The deployments of a site; ``work_queue`` places them in the site's queue of a work pool."""
    site_path = str(loaded.path)
    name, tags, module = loaded.site.name, [site_tag(loaded.site.name)], entrypoint
    pipeline = cast(RunnerDeployment, secure_mode_deployment.to_deployment(
        name=name, tags=tags, work_queue_name=work_queue, entrypoint_type=module,
        parameters={"site_path": site_path, "mode": "run"},
        description="Run the secure-mode pipeline; gated steps pause for approval in the UI."))
    scheduled = cast(RunnerDeployment, reverify.to_deployment(
        name=name, tags=tags, work_queue_name=work_queue, entrypoint_type=module,
        cron=loaded.site.reverify_cron, parameters={"site_path": site_path},
        description="Re-prove every control; emits securemode.drift.detected on drift."))
    rebuilder = cast(RunnerDeployment, rebuild.to_deployment(
        name=name, tags=tags, work_queue_name=work_queue, entrypoint_type=module,
        parameters={"site_path": site_path, "reason": "", "declared_by": None, "nodes": []},
        description="Rebuild after a compromise: quarantine, rotate every credential, redeploy from the OVA, run "
        "the pipeline, verify, fail back (gated). Parameters: reason, declared_by, nodes (empty: the whole primary)."))
    plan = loaded.site.contingency
    if plan is None:
        return [pipeline, scheduled, rebuilder]
    refresh = cast(RunnerDeployment, contingency_refresh.to_deployment(
        name=name, tags=tags, work_queue_name=work_queue, entrypoint_type=module,
        cron=plan.refresh_cron, parameters={"site_path": site_path},
        description="Power the contingency deployment on, bring it into parity with the primary, power it off."))
    takeover = cast(RunnerDeployment, failover.to_deployment(
        name=name, tags=tags, work_queue_name=work_queue, entrypoint_type=module,
        parameters={"site_path": site_path, "isolation": "power-off"},
        description="Fail over to the contingency deployment: isolate the primary, power the fallback on, prove it, "
                    "the licence transfer as a person's step; started by securemode.incident.declared."))
    return [pipeline, scheduled, rebuilder, refresh, takeover]


def deploy_site(loaded: LoadedSite, pool: str, pool_limit: int | None, docker: bool = False) -> list[str]:
    """Register the site's deployments in ``pool`` (created if missing), in the site's queue.

    A process pool's worker imports the installed project; with ``docker`` the pool is a Docker pool whose
    runs start in containers of the worker image (``securemode image build``), with the site's folder and
    the state folder mounted. Returns the deployment names (``flow/site``). Needs the Prefect API."""
    from securemode.deployments import workers

    variables: dict[str, Any] = {}
    if docker:
        from securemode.deployments import docker_pool
        from securemode.deployments.worker_image import worker_tag

        loaded = replace(loaded, path=loaded.path.resolve())  # the container sees the site at its absolute path
        variables = docker_pool.job_variables(loaded)
        workers.ensure_pool(pool, pool_limit, docker_pool.POOL_TYPE, docker_pool.base_job_template(worker_tag()))
    else:
        workers.ensure_pool(pool, pool_limit)
    queue = workers.ensure_site_queue(pool, loaded.site.name)
    names = []
    for deployment in site_deployments(loaded, work_queue=queue, entrypoint=EntrypointType.MODULE_PATH):
        deployment.job_variables = variables
        deployment_id = cast(UUID, deployment.apply(work_pool_name=pool))
        if docker:
            _run_from_the_image(deployment_id)
        names.append(f"{deployment.flow_name}/{deployment.name}")
    from securemode.deployments.automations import register_operations

    register_operations(loaded)
    return names


def _run_from_the_image(deployment_id: UUID) -> None:
    """A container runs the project installed in its image: a pull step that only sets the working folder keeps
    Prefect from copying "flow code" from the container's working folder (it would copy ``/``)."""
    from prefect import get_client
    from prefect.client.schemas.actions import DeploymentUpdate

    step = {"prefect.deployments.steps.set_working_directory": {"directory": "/"}}
    with get_client(sync_client=True) as client:
        client.update_deployment(deployment_id, DeploymentUpdate(pull_steps=[step]))
