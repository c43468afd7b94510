"""What the failover checks before it changes anything, and how it proves the fallback carries the service.

Preconditions are the contingency stage's own rows on the primary (read without powering anything on):
parity proven and fresh, the guide's exceptions in the last export, every fallback VM present and
powered off. The proof is behaviour on the fallback once it is up: the bootstrap, platform and auth
stages' verifiers on the fallback's site (TLS 1.0 refused, SNMPv3 answering, authenticated NTP, LDAP
logins), its exceptions read live, and its local admin logging in (the guide keeps local authentication).
"""

from __future__ import annotations

from functools import partial

from securemode.catalogue import Stage
from securemode.console.access import web_target
from securemode.failover_marker import active_failover
from securemode.flows import stages
from securemode.flows.auth_proofs import local_admin
from securemode.flows.fanout import in_threads
from securemode.flows.gates import stages_started_from_deployment
from securemode.flows.stage import STAGE_FLOWS
from securemode.flows.states import outcome_of
from securemode.outcome import StageOutcome, blockers
from securemode.pexip.connect import management_api
from securemode.results import Result, Status
from securemode.site_loader import LoadedSite
from securemode.targets import CONTINGENCY_TARGET
from securemode.verifiers import auth
from securemode.verifiers.parity import LDAP_AND_LOCAL, check_fallback_exceptions

PRECONDITION_CONTROLS = (
    "contingency.parity",
    "contingency.auth.ldap-and-local",
    "contingency.auth.no-client-cert",
    "contingency.no-licence",
    "contingency.powered-off",
)
PROVEN_BY = (Stage.BOOTSTRAP, Stage.PLATFORM, Stage.AUTH)


def precondition_problems(primary: LoadedSite) -> list[str]:
    """Why a failover must not start now (empty: it may): the contingency rows that do not PASS."""
    marker = active_failover(primary)
    if marker is not None:
        return [f"a {marker.describe()}; the failback clears it"]
    rows = [r for r in stages.load(Stage.CONTINGENCY).verify(primary) if r.control in PRECONDITION_CONTROLS]
    if not rows:
        return ["no contingency row could be checked"]
    return [f"{r.control} [{r.target}] {r.status.value}: {r.message}" for r in rows if r.status is not Status.PASS]


def _verify_stage(site_path: str, stage: Stage) -> StageOutcome:
    return outcome_of(
        STAGE_FLOWS[stage](site_path=site_path, apply=False, verify=True, run_steps=False, return_state=True),
        StageOutcome,
    )


def local_admin_logs_in(fallback: LoadedSite) -> Result:
    """The fallback's local admin logs in on its web interface: the exception the guide keeps it for."""
    user, password = local_admin(fallback)
    return auth.check_logins(
        LDAP_AND_LOCAL, fallback.site.management_node.name, web_target(fallback), [auth.Login(user, "local", password)]
    )


def prove_fallback(fallback: LoadedSite) -> tuple[list[Result], list[Result]]:
    """Every proof's result, and those that do not hold (FAIL, ERROR, MANUAL unattested) past the site's
    allowed errors. The stage verifiers never pause for input here: a failover does not wait on them."""
    path = str(fallback.path)
    with stages_started_from_deployment(False):
        outcomes = in_threads([partial(_verify_stage, path, stage) for stage in PROVEN_BY])
    results = [r for o in outcomes for r in o.results]
    results += check_fallback_exceptions(CONTINGENCY_TARGET, lambda: management_api(fallback))
    results.append(local_admin_logs_in(fallback))
    return results, blockers(results, frozenset(fallback.site.allow_error))
