"""Hostile and mistaken input: every one is exit 2 with one clear message, before anything runs."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from securemode.problems import InputError
from securemode.site_loader import parse_site
from tests.unit.sites import EXAMPLE, SECRET_ENV, example_document, set_secrets, write_site
from tests.unit.test_cli import SECUREMODE, run


def _problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("  - ")]


# --- silent no-ops: unknown ids are refused, naming the closest valid ones ------------------------------------

def test_verify_with_an_unknown_control_exits_2_naming_it_and_the_closest() -> None:
    proc = run("verify", "--site", str(EXAMPLE), "--controls", "no.such.control,host.vlan.no4095")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = _problem_lines(proc.stderr)
    assert len(lines) == 2, proc.stderr
    assert "'no.such.control' is not a control id" in lines[0] and "securemode controls" in lines[0]
    assert "'host.vlan.no4095'" in lines[1] and "did you mean host.vlan.no-4095" in lines[1]
    assert "Prefect UI" not in proc.stdout  # nothing ran


def test_a_control_outside_the_selected_stages_is_refused() -> None:
    proc = run("verify", "--site", str(EXAMPLE), "--stage", "host", "--controls", "bootstrap.wizard.tls10")
    assert proc.returncode == 2
    assert "'bootstrap.wizard.tls10' is not a control of the stages that run" in proc.stderr


def test_misspelt_approve_and_attest_exit_2() -> None:
    proc = run("run", "--site", str(EXAMPLE), "--approve", "host.lockdwn", "--approve", "host.lockdown",
               "--attest", "vms.bios.supervisor-pasword", "--attest", "bootstrap.wizard.web-sessions")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = _problem_lines(proc.stderr)
    assert len(lines) == 2, proc.stderr
    assert lines[0].startswith("  - --approve: 'host.lockdwn' is not the name of a gated step")
    assert "did you mean host.lockdown" in lines[0]
    assert lines[1].startswith("  - --attest: 'vms.bios.supervisor-pasword' is not a control that takes an "
                               "attestation") and "vms.bios.supervisor-password" in lines[1]


def test_what_bin_main_approves_and_attests_is_valid() -> None:
    from securemode.cli import checks as cli_checks
    from securemode.flows import stages as registry

    script = (Path(__file__).resolve().parents[2] / "bin" / "main").read_text()
    gates = script.split("GATES=(", 1)[1].split(")", 1)[0].split()
    attest = script.split("ATTEST=(", 1)[1].split(")", 1)[0].split()
    assert cli_checks.unknown_ids("--approve", gates, cli_checks.gated_steps(registry.available()), "x") == []
    assert cli_checks.unknown_ids("--attest", attest, cli_checks.attestable_controls(), "x") == []


def test_unwritable_report_dir_is_refused_before_anything_runs(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = run("run", "--site", str(EXAMPLE), "--approve", "host.lockdown", "--report", str(blocker / "reports"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"--report: cannot write to {blocker / 'reports'}" in proc.stderr
    assert "Prefect UI" not in proc.stdout
    out = run("report", str(tmp_path / "report.json"), "--out", str(blocker / "x"))
    assert out.returncode == 2 and "--out: cannot write to" in out.stderr


# --- site files -------------------------------------------------------------------------------------------

def test_non_utf8_site_file_names_the_byte_offset(tmp_path: Path) -> None:
    data = EXAMPLE.read_bytes()
    offset = data.index(b"example")
    site = tmp_path / "site.yaml"
    site.write_bytes(data[:offset] + b"\xff\xfe" + data[offset:])
    proc = run("validate", str(site))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"(file): not UTF-8 text: byte {offset} (0xff) cannot be decoded" in proc.stderr


def _billion_laughs() -> str:
    document = example_document()
    del document["dns_servers"]
    text = yaml.safe_dump(document, sort_keys=False)
    text += "x0: &a0 [" + ", ".join(["192.0.2.53"] * 10) + "]\n"
    for level in range(1, 9):
        text += f"x{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]\n"
    return text + "dns_servers: *a8\n"


def test_alias_bomb_is_refused_within_a_second_and_100_mb(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(_billion_laughs())
    assert site.stat().st_size < 4096
    script = (f"import resource, time; from pathlib import Path\nfrom securemode.site_loader import load_site\n"
              f"before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\nt0 = time.perf_counter()\ntry:\n"
              f"    load_site(Path({str(site)!r}))\nexcept Exception as e:\n"
              f"    print('error', repr(e.problems[0].message))\n"
              f"print('seconds', time.perf_counter() - t0)\n"
              f"print('grew_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n")
    proc = subprocess.run([str(Path(SECUREMODE).with_name("python")), "-c", script], capture_output=True, text=True,
                          timeout=30, env={**os.environ, **SECRET_ENV})
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    assert lines.get("error") == repr("aliases expand the document by more than 10000 values"), proc.stderr
    assert float(lines["seconds"]) < 1.0
    assert int(lines["grew_kb"]) < 100 * 1024

def test_a_few_anchors_and_aliases_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    set_secrets(monkeypatch)
    text = EXAMPLE.read_text().replace("locations:\n", "locations: &locs\n", 1) + "\n"
    loaded = parse_site(text, EXAMPLE)
    assert loaded.site.name == "example"


def test_self_referencing_alias_is_refused() -> None:
    with pytest.raises(InputError, match="refers to its own anchor"):
        parse_site("name: &n [x, *n]\n", EXAMPLE)


def test_a_megabyte_site_file_parses_quickly() -> None:
    text = "name: big\npadding:\n" + "".join(f"  - {{a: {i}, b: some-text-{i}}}\n" for i in range(30_000))
    assert len(text) < 1_048_576
    t0 = time.perf_counter()
    with pytest.raises(InputError) as exc:
        parse_site(text, EXAMPLE)
    assert time.perf_counter() - t0 < 5.0  # libyaml; the pure-Python parser takes ~10 s on this machine
    assert any(p.field == "padding" for p in exc.value.problems)


@pytest.mark.parametrize(("algorithm", "key", "why"), [
    ("SHA1", "HEX:01", "must be 20 bytes (40 hex digits), this one has 2 digits"),
    ("SHA1", "HEX:zz", "is not hexadecimal digits"),
    ("SHA256", "HEX:" + "ab" * 20, "must be 32 bytes (64 hex digits), this one has 40 digits"),
    ("SHA1", "a" * 21, "an ASCII key is at most 20 characters, this one has 21"),
    ("SHA1", "two words", "only printable ASCII characters without spaces"),
])
def test_bad_ntp_keys_are_named_without_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, algorithm: str,
                                                key: str, why: str) -> None:
    set_secrets(monkeypatch)
    (tmp_path / "ntp.key").write_text(key + "\n")
    doc = example_document()
    doc["ntp_servers"][1].update(algorithm=algorithm, key="file:ntp.key")
    with pytest.raises(InputError) as exc:
        parse_site(yaml.safe_dump(doc), tmp_path / "site.yaml")
    rendered = exc.value.render()
    assert "ntp_servers[1].key: the key behind file:ntp.key: " in rendered and why in rendered
    assert len(exc.value.problems) == 1
    if len(key) > 6:
        assert key[4:] not in rendered


@pytest.mark.parametrize(("algorithm", "key"), [("SHA1", "HEX:" + "0a" * 20), ("SHA256", "HEX:" + "Fe" * 32),
                                                ("SHA256", "ASCII:short-key"), ("SHA1", "x" * 20)])
def test_good_ntp_keys_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, algorithm: str, key: str) -> None:
    set_secrets(monkeypatch)
    (tmp_path / "ntp.key").write_text(key)
    doc = example_document()
    doc["ntp_servers"][0].update(algorithm=algorithm, key="file:ntp.key")
    parse_site(yaml.safe_dump(doc), tmp_path / "site.yaml")


def test_one_message_per_bad_address(tmp_path: Path) -> None:
    doc = example_document()
    doc["dns_servers"] = ["192.0.2.999", "192.0.2.53"]
    proc = run("validate", str(write_site(tmp_path, doc)))
    assert proc.returncode == 2
    assert _problem_lines(proc.stderr) == [
        "  - dns_servers[0]: is not a valid IPv4 or IPv6 address. Fix: give an IPv4 or IPv6 address"]


def test_lab_ntp_keys_have_the_length_of_their_algorithm() -> None:
    from securemode.infra.services.chrony import default_keys
    from securemode.ntp_key_format import key_problem
    from securemode.site import NtpAlgorithm

    for key in default_keys():
        assert key_problem(key.hex_secret, NtpAlgorithm(key.algorithm)) is None

