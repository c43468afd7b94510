"""Fuzz: whatever site file and arguments a user gives, the CLI ends with exit 0, 1 or 2 and a message.

Never a traceback, and within a time and memory bound. Runs the CLI in-process (typer's CliRunner).
The pipeline itself is replaced by a recorder: what is fuzzed here is the input handling in front of
it (a real pipeline per example would take minutes and is covered by the pipeline tests).
"""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from securemode.catalogue import CONTROLS
from securemode.cli import app
from tests.unit.sites import EXAMPLE, set_secrets

EXAMPLE_BYTES = EXAMPLE.read_bytes()
SECONDS_PER_CALL = 5.0  # generous on a loaded 2-core machine; a bomb took 110 s before the bound
MEMORY_GROWTH_KB = 100 * 1024

junk = st.one_of(st.text(max_size=20), st.sampled_from(["", ",", "..", "host", "host.lockdown", "*", "-x", "--"]))
control_ids = st.one_of(st.sampled_from([c.id for c in CONTROLS]), junk)
gates = st.one_of(st.sampled_from(["host.lockdown", "bootstrap.securitywizard", "bootstrap.pin-console-host-key"]),
                  junk)
stages = st.one_of(st.sampled_from(["host", "vms", "bootstrap", "pki", "platform", "host,vms"]), junk)


@st.composite
def site_bytes(draw: st.DrawFn) -> bytes:
    """The example site with byte edits, anchors and aliases spliced in."""
    data = bytearray(EXAMPLE_BYTES)
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["insert", "replace", "delete", "alias"]))
        if edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "replace":
            data[at:at + 1] = draw(st.binary(min_size=1, max_size=1))
        elif edit == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        else:
            data[at:at] = draw(st.sampled_from([b"&a ", b"*a", b"&b [*a, *a, *a]", b"<<: *a\n",
                                                b"!!python/object/apply:os.system ['true']"]))
    return bytes(data)


@st.composite
def arguments(draw: st.DrawFn, site: str, out_dir: str) -> list[str]:
    command = draw(st.sampled_from(["validate", "controls", "plan", "run", "verify", "report"]))
    if command == "validate":
        return ["validate", draw(st.sampled_from([site, "/nonexistent.yaml", out_dir]))]
    if command == "controls":
        return ["controls", *(["--stage", draw(stages)] if draw(st.booleans()) else []),
                *(["--json"] if draw(st.booleans()) else [])]
    if command == "report":
        return ["report", draw(st.sampled_from([site, "/nonexistent.json"])), "--out",
                draw(st.sampled_from([out_dir, f"{site}/under-a-file"]))]
    args = [command, "--site", site]
    if draw(st.booleans()):
        args += ["--stage", draw(stages)]
    if command != "plan" and draw(st.booleans()):
        args += ["--report", draw(st.sampled_from([out_dir, f"{site}/under-a-file"]))]
    if command == "verify" and draw(st.booleans()):
        args += ["--controls", ",".join(draw(st.lists(control_ids, max_size=3)))]
    if command == "run":
        for gate in draw(st.lists(gates, max_size=2)):
            args += ["--approve", gate]
        for control in draw(st.lists(control_ids, max_size=2)):
            args += ["--attest", control]
    return args


@pytest.fixture
def recorded_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import securemode.cli.driver

    calls: list[dict[str, Any]] = []

    def drive(*args: Any, **kwargs: Any) -> int:
        calls.append({"args": args, **kwargs})
        return 0  # the command's exit code: compliant, no changes pending

    monkeypatch.setattr(securemode.cli.driver, "drive", drive)
    set_secrets(monkeypatch)
    return calls


def _invoke(args: list[str]) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    result = CliRunner().invoke(app, args, catch_exceptions=True)
    elapsed = time.perf_counter() - t0
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, output)
    assert "Traceback" not in output, (args, output)
    if result.exit_code:
        assert output.strip(), (args, "a failure must say why")
    assert elapsed < SECONDS_PER_CALL, (args, elapsed)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < MEMORY_GROWTH_KB, args


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_any_site_file_and_arguments_end_cleanly(tmp_path: Path, recorded_runs: list[dict[str, Any]],
                                                 data: st.DataObject) -> None:
    site = tmp_path / "site.yaml"
    site.write_bytes(data.draw(site_bytes()))
    _invoke(data.draw(arguments(str(site), str(tmp_path / "out"))))


def test_fuzz_reaches_the_pipeline_with_good_input(recorded_runs: list[dict[str, Any]], tmp_path: Path) -> None:
    """The recorder is reached by valid input, so the fuzz above does exercise the whole path."""
    _invoke(["run", "--site", str(EXAMPLE), "--approve", "host.lockdown", "--attest", "vms.bios.supervisor-password",
             "--report", str(tmp_path / "out")])
    assert len(recorded_runs) == 1

