"""`contingency-refresh`: power the fallback on, bring it to the primary's configuration with the guide's
exceptions, prove parity, power it off again — on the site's schedule (``contingency.refresh_cron``).

A refresh is the pipeline with a refresh asked for: the primary's stages first bring the primary to its
desired state (so the fallback never copies a setting tampered with on the primary), then the
contingency stage rebuilds the fallback with the same stage code, records parity and powers it off. The
request is kept until a refresh finishes, so a refresh that dies half-way is done by the next run.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.client.schemas.objects import State

from securemode.flows.naming import contingency_refresh_run_name
from securemode.flows.pipeline import PipelineOutcome, secure_mode_deployment
from securemode.flows.states import FlowReturn, failed_with, outcome_of
from securemode.pexip import parity_record
from securemode.problems import InputError, Problem
from securemode.site_loader import load_site


@flow(name="contingency-refresh", flow_run_name=contingency_refresh_run_name, log_prints=False)
def contingency_refresh(site_path: str, approve: list[str] | None = None, attest: list[str] | None = None,
                        approver: str | None = None, report_dir: str | None = None,
                        ) -> FlowReturn[PipelineOutcome]:
    """Refresh the site's contingency deployment (the whole pipeline, with a refresh asked for)."""
    loaded = load_site(Path(site_path))
    if loaded.site.contingency is None:
        raise InputError(site_path, [Problem(field="contingency", message="is not defined: there is no "
                                             "contingency deployment to refresh", fix="add a contingency section")])
    parity_record.request_refresh(loaded, "a refresh was asked for (contingency-refresh)")
    state = secure_mode_deployment(site_path=site_path, mode="run", approve=approve, attest=attest,
                                   approver=approver, report_dir=report_dir, return_state=True)
    outcome = outcome_of(state, PipelineOutcome)
    if not isinstance(state, State) or state.is_failed():
        return failed_with(outcome, f"contingency refresh: {getattr(state, 'message', None) or 'not compliant'}")
    return outcome
