"""The catalogue runs: every control of a built stage is bound to a fix (or is verify-only/manual by flag)
and to a verifier, and a stage's verify plans exactly the catalogue's (control, target) pairs for a site.

CPU only: the plans are built from the bindings and the example site; no probe runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from securemode.binding import Binding, BindingError, Proof, checked, fix_name, verifier_names
from securemode.catalogue import BY_ID, Flag, Stage, TargetKind, controls_for
from securemode.engine import EnsureStep
from securemode.flows import stages as registry
from securemode.results import Result
from securemode.site import Site
from securemode.site_loader import LoadedSite, load_site
from tests.unit.sites import example_document, set_secrets, with_contingency, write_site

BUILT = registry.available()
# The approval names users pass to --approve (bin/main and the docs use them): unchanged by the bindings.
GATES = {
    "host.lockdown",
    "bootstrap.pin-console-host-key",
    "bootstrap.pin-web-certificate",
    "bootstrap.securitywizard",
    "auth.require-client-certificate",
    "auth.ldap-only",
}


def _expected_targets(site: Site, kind: TargetKind) -> list[str]:
    """What each target kind covers, stated here independently of securemode.targets."""
    mgmt = site.management_node.name
    conferencing = [n.name for n in site.conferencing_nodes]
    return {
        TargetKind.ESXI_HOST: [site.vsphere.esxi_host or site.vsphere.host],
        TargetKind.VM: [mgmt],
        TargetKind.MANAGEMENT_NODE: [mgmt],
        TargetKind.CONFERENCING_NODE: conferencing,
        TargetKind.NODE: [mgmt, *conferencing],
        TargetKind.SIP_LISTENER: conferencing or [mgmt],
        TargetKind.PLATFORM: ["platform"],
        TargetKind.LOCATION: [loc.name for loc in site.locations],
        TargetKind.SERVER_OWNER: [mgmt, *(loc.name for loc in site.locations)],
        TargetKind.NTP_SERVER: [s.address for s in site.ntp_servers],
        TargetKind.DNS_SERVER: [str(a) for a in site.dns_servers],
        TargetKind.SYSLOG_SERVER: [f"{s.address}:{s.port}/{s.transport.value}" for s in site.syslog_servers],
        TargetKind.LDAP: [f"{site.ldap.server}:{site.ldap.port}"] if site.ldap else [],
        TargetKind.CONTINGENCY: ["contingency"] if site.contingency else [],
        TargetKind.FALLBACK_VM: [n.name for n in (site.contingency.management_node,
                                                 *site.contingency.conferencing_nodes)] if site.contingency else [],
    }[kind]


def _loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **changes: Any) -> LoadedSite:
    set_secrets(monkeypatch)
    doc = example_document()
    doc.update(changes)
    return load_site(write_site(tmp_path, doc))


def _plan(stage: Stage, loaded: LoadedSite) -> list[tuple[str, str]]:
    module = __import__(f"securemode.flows.stages.{stage.value}", fromlist=["plan"])
    return [item.pair for item in module.plan(loaded)]


def test_the_pipeline_stages_are_built() -> None:
    assert {Stage.HOST, Stage.VMS, Stage.BOOTSTRAP, Stage.NODES, Stage.PKI, Stage.PLATFORM} <= set(BUILT)


@pytest.mark.parametrize("stage", BUILT, ids=str)
def test_every_control_of_a_built_stage_has_a_fix_or_a_flag_and_a_verifier(stage: Stage) -> None:
    bound = registry.bindings(stage)
    assert sorted(b.control.id for b in bound) == sorted(c.id for c in controls_for([stage]))
    steps = registry.load(stage).steps
    for b in bound:
        assert b.fix in steps or (b.fix is None and {Flag.VERIFY_ONLY, Flag.MANUAL} & b.control.flags), b.control.id
        assert b.verify and all(callable(p.verifier) for p in b.verify), b.control.id
        assert all(
            name.startswith(("securemode.verifiers.", "securemode.flows.stages.")) for name in verifier_names(b)
        ), b.control.id
        if b.fix is not None:
            assert (fix_name(b) or "").startswith("securemode.tasks."), b.control.id


@pytest.mark.parametrize("stage", BUILT, ids=str)
def test_a_stage_plans_exactly_the_catalogue_controls_on_their_targets(
    stage: Stage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = _loaded(tmp_path, monkeypatch, contingency=with_contingency(example_document())["contingency"])
    site = loaded.site
    assert site.conferencing_nodes and site.locations, "the example site must exercise every target kind"
    expected = [(c.id, t) for c in controls_for([stage]) for t in _expected_targets(site, c.target)]
    planned = _plan(stage, loaded)
    assert len(planned) == len(set(planned)), "a control is planned twice on one target"
    assert sorted(planned) == sorted(expected)
    assert {c.id for c in controls_for([stage])} <= {cid for cid, _ in planned}, "a control checks no target"


def test_without_conferencing_nodes_the_sip_ports_are_read_on_the_management_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = _loaded(tmp_path, monkeypatch, conferencing_nodes=[])
    bootstrap = __import__("securemode.flows.stages.bootstrap", fromlist=["plan"])
    sip = {
        item.pair: [p.verifier.__qualname__ for p in item.proofs]
        for item in bootstrap.plan(loaded)
        if item.pair[0].startswith("bootstrap.wizard.sip-")
    }
    mgmt = loaded.site.management_node.name
    assert sip == {(f"bootstrap.wizard.sip-{t}-port", mgmt): ["security_settings"] for t in ("udp", "tcp", "tls")}


def test_sip_port_rows_are_proved_by_sip_options_on_conferencing_nodes() -> None:
    names = registry.bound_names()
    for row in ("udp", "tcp", "tls"):
        assert names[f"bootstrap.wizard.sip-{row}-port"].verifiers[0] == "securemode.verifiers.sip.check_options"


def test_the_nodes_stage_proves_the_sip_ports_by_sip_options_on_each_conferencing_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bootstrap runs before the conferencing nodes exist; the nodes stage probes the same ports on each."""
    loaded = _loaded(tmp_path, monkeypatch)
    nodes = __import__("securemode.flows.stages.nodes", fromlist=["plan"])
    ctx = nodes.NodesProbe(loaded, {"sip-udp-port": 5060, "sip-tcp-port": 5060, "sip-tls-port": 5061})
    sip = {item.pair[1]: sorted((str(how.args[1]), how.args[0].port) for p in item.proofs
                                if (how := p.arguments(ctx, item.target)))
           for item in nodes.plan(loaded) if item.pair[0] == "nodes.sip-ports"}
    assert sip == {n.name: [("tcp", 5060), ("tls", 5061), ("udp", 5060)] for n in loaded.site.conferencing_nodes}
    names = registry.bound_names()
    assert names["nodes.sip-ports"].verifiers == ("securemode.verifiers.sip.check_options",)


def test_flags_decide_which_steps_are_gated_and_the_gate_names_are_kept() -> None:
    gates = {step.gated for stage in BUILT for step in registry.load(stage).steps if step.gated}
    assert gates == GATES
    for stage in BUILT:
        for b in registry.bindings(stage):
            if {Flag.LOCKOUT_RISK, Flag.IRREVERSIBLE} & b.control.flags:
                assert b.fix is not None and b.fix.gated, f"{b.control.id} is fixed by an ungated step"


def test_every_stage_is_built_and_listed_so() -> None:
    names = registry.bound_names()
    assert list(Stage) == BUILT
    assert all(names[c.id].built for c in controls_for(BUILT))


# The import-time check rejects every way a stage's bindings can be wrong ---------------------------------
def _verifier(control: str, target: str) -> Result:
    raise AssertionError("never called: only the bindings are checked")


def _never_run(*_args: object) -> Any:
    raise AssertionError("never called: only the bindings are checked")


def _step(name: str, gated: str | None = None) -> EnsureStep:
    return EnsureStep(name, _never_run, gated=gated)


def _host_bindings(step: EnsureStep, lockdown: EnsureStep) -> list[Binding[None]]:
    proof: tuple[Proof[None], ...] = (Proof(_verifier),)
    return [
        Binding(c, None if Flag.VERIFY_ONLY in c.flags else lockdown if Flag.LOCKOUT_RISK in c.flags else step, proof)
        for c in controls_for([Stage.HOST])
    ]


def test_checked_accepts_whole_bindings() -> None:
    step, lockdown = _step("any"), _step("lockdown", gated="host.lockdown")
    assert len(checked(Stage.HOST, [step, lockdown], _host_bindings(step, lockdown))) == len(controls_for([Stage.HOST]))


@pytest.mark.parametrize("fault", ["missing", "twice", "unknown", "no-fix", "no-verifier", "ungated", "foreign-step"])
def test_checked_rejects_bindings_that_are_not_whole(fault: str) -> None:
    step, lockdown = _step("any"), _step("lockdown", gated="host.lockdown")
    steps = [step, lockdown]
    bound = _host_bindings(step, lockdown)
    pnics = next(i for i, b in enumerate(bound) if b.control.id == "host.pnics.separate")
    if fault == "missing":
        del bound[pnics]
    elif fault == "twice":
        bound.append(bound[pnics])
    elif fault == "unknown":
        bound.append(Binding(BY_ID["pki.cert.name"], None, (Proof(_verifier),)))
    elif fault == "no-fix":
        bound[pnics] = Binding(bound[pnics].control, None, bound[pnics].verify)
    elif fault == "no-verifier":
        bound[pnics] = Binding(bound[pnics].control, step, ())
    elif fault == "ungated":
        steps = [step, _step("lockdown")]
        bound = _host_bindings(step, steps[1])
    elif fault == "foreign-step":
        bound[pnics] = Binding(bound[pnics].control, _step("elsewhere"), bound[pnics].verify)
    with pytest.raises(BindingError):
        checked(Stage.HOST, steps, bound)
