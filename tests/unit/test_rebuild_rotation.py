"""The rebuild's rotation plan (which credentials, which backends can take a new value), the secret backends'
writes, the lab CA's revocation, the rebuild record's digests and a new lab VM's empty disk."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from securemode import rotation, secret_store
from securemode.ca_adapters.base import SigningRequest
from securemode.ca_adapters.lab import LabCaAdapter
from securemode.infra.lab.node_processes import ProcessSpec
from securemode.infra.lab.vm_disks import Disks
from securemode.infra.pki.ca import LabCA
from securemode.pexip.rebuild_record import salted_digest, same_value
from securemode.secrets import SecretError, is_reference, resolve
from securemode.site import Site
from tests.unit.sites import example_document, with_contingency


def site(**sections: Any) -> Site:
    """The example site with a fallback, with top-level sections replaced."""
    return Site.model_validate({**with_contingency(example_document()), **sections})


def files(doc_site: Site) -> Site:
    """The same site with every secret as a file: reference."""
    text = json.dumps(doc_site.model_dump(mode="json")).replace('"env:', '"file:secrets/')
    return Site.model_validate(json.loads(text))


def actions(s: Site, nodes: list[str]) -> dict[str, str]:
    return {c.field: c.action for c in rotation.credentials(s, nodes)}


def test_every_credential_of_the_deployment_is_rotated_and_every_other_reference_is_kept_with_a_reason() -> None:
    s = site()
    names = [n.name for n in s.nodes()]
    found = actions(s, names)
    assert {f for f, a in found.items() if a == rotation.ROTATE} == {
        "management_node.admin_password",
        "conferencing_nodes[0].node_password",
        "conferencing_nodes[1].node_password",
        "snmp.auth_password",
        "snmp.priv_password",
        "snmp.community",
    }
    kept = {c.field: c.why_kept for c in rotation.credentials(s, names) if c.action == rotation.KEPT}
    assert "ldap.bind_password" in kept and "rebuild.ldap_admin" in kept["ldap.bind_password"]
    assert {"vsphere.password", "ntp_servers[0].key", "ntp_servers[1].key", "contingency.local_admin_password"} <= set(
        kept
    )
    assert all(kept.values())


def test_the_bind_password_is_rotated_where_the_site_can_change_it() -> None:
    s = site(rebuild={"ldap_admin": {"dn": "cn=admin,dc=example,dc=test", "password": "file:ldap-admin"}})
    creds = {c.field: c for c in rotation.credentials(s, [n.name for n in s.nodes()])}
    assert creds["ldap.bind_password"].action == rotation.ROTATE
    assert creds["ldap.bind_password"].applied_by == "ldap"
    assert creds["rebuild.ldap_admin.password"].action == rotation.KEPT


def test_the_admin_password_is_kept_when_only_conferencing_nodes_are_rebuilt() -> None:
    s = site()
    found = actions(s, [s.conferencing_nodes[0].name])
    assert found["management_node.admin_password"] == rotation.KEPT
    assert found["conferencing_nodes[0].node_password"] == rotation.ROTATE


def test_the_rebuilt_vms_are_the_named_primary_nodes_or_all_of_them() -> None:
    s = site()
    names = [n.name for n in s.nodes()]
    assert rotation.rebuilt_vms(s, None) == (names, []) == rotation.rebuilt_vms(s, [])
    assert rotation.rebuilt_vms(s, [names[2], names[0]]) == ([names[0], names[2]], [])
    vms, problems = rotation.rebuilt_vms(s, ["nope", names[1]])
    assert vms == [] and [p.field for p in problems] == ["nodes"] and "nope" in problems[0].message


def test_env_references_to_rotate_are_refused_naming_each_field_and_the_fix() -> None:
    s = site()
    problems = rotation.refuse_unwritable(s, [n.name for n in s.nodes()])
    assert [p.field for p in problems] == [
        "management_node.admin_password",
        "conferencing_nodes[0].node_password",
        "conferencing_nodes[1].node_password",
        "snmp.auth_password",
        "snmp.priv_password",
        "snmp.community",
    ]
    assert all("env:" in p.message and "file: or prefect-secret:" in p.fix for p in problems)


def test_file_and_prefect_secret_references_are_writable_env_is_not() -> None:
    s = files(site())
    assert rotation.refuse_unwritable(s, [n.name for n in s.nodes()]) == []
    assert secret_store.writable("file:x") and secret_store.writable("prefect-secret:admin-pw")
    assert not secret_store.writable("env:SM_ADMIN_PASSWORD")
    with pytest.raises(SecretError, match="not a secret reference"):
        secret_store.writable("plain-text")


def test_a_file_secret_is_replaced_owner_only_and_an_env_one_is_refused(tmp_path: Path) -> None:
    (tmp_path / "admin").write_text("old-value-123\n")
    secret_store.write("file:admin", "new-value-456", tmp_path)
    assert resolve("file:admin", tmp_path).get_secret_value() == "new-value-456"
    assert stat.S_IMODE((tmp_path / "admin").stat().st_mode) == 0o600
    with pytest.raises(SecretError, match="environment variable") as raised:
        secret_store.write("env:SM_X", "never-shown-789")
    assert "never-shown-789" not in str(raised.value)


def test_new_values_are_fresh_and_a_community_fits_snmp() -> None:
    community = rotation.new_value("community")
    assert len(community) == 16 and community not in ("public", "private")
    assert len({rotation.new_value("password") for _ in range(20)}) == 20


def test_a_salted_digest_matches_only_its_own_value() -> None:
    entry = salted_digest("old-value-123")
    assert "old-value-123" not in str(entry)
    assert same_value(entry, "old-value-123") and not same_value(entry, "new-value-456")
    assert salted_digest("old-value-123")["digest"] != entry["digest"]  # salted


def _csr(cn: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def test_the_lab_ca_revokes_what_it_issued_in_a_signed_crl(tmp_path: Path) -> None:
    LabCA.create(tmp_path / "ca")
    adapter = LabCaAdapter(tmp_path / "ca")
    signed = adapter.sign(
        SigningRequest("mgr01", "mgr01.example.test", ("mgr01.example.test",), _csr("mgr01.example.test"))
    )
    assert signed is not None
    other = adapter.sign(SigningRequest("conf01", "conf01.example.test", (), _csr("conf01.example.test")))
    assert other is not None
    assert adapter.issued_for({"mgr01.example.test"}) == [signed.certificate_pem]
    assert not adapter.revoked(signed.certificate_pem)
    assert adapter.revoke(signed.certificate_pem, "compromise") is True
    assert adapter.revoke(signed.certificate_pem, "compromise") is False  # already
    assert adapter.revoked(signed.certificate_pem) and not adapter.revoked(other.certificate_pem)
    crl = x509.load_pem_x509_crl(adapter.crl_path.read_bytes())
    serial = x509.load_pem_x509_certificate(signed.certificate_pem.encode()).serial_number
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    intermediate = x509.load_pem_x509_certificate((tmp_path / "ca" / "intermediate.pem").read_bytes())
    assert crl.is_signature_valid(intermediate.public_key())  # type: ignore[arg-type]


def test_the_lab_ca_refuses_to_revoke_another_cas_certificate(tmp_path: Path) -> None:
    LabCA.create(tmp_path / "ours")
    theirs = LabCA.create(tmp_path / "theirs", name="another")
    foreign = theirs.issue_server("x", dns_names=["x.example.test"]).cert_path.read_text()
    with pytest.raises(ValueError, match="was not issued by"):
        LabCaAdapter(tmp_path / "ours").revoke(foreign, "compromise")


def test_a_new_vm_under_a_nodes_name_boots_an_empty_disk_and_the_old_one_is_kept(tmp_path: Path) -> None:
    work, state = tmp_path / "nodes" / "mgr01", tmp_path / "twin-state"
    spec = ProcessSpec("twin", "m", ("--state-dir", str(state)), str(work))
    for folder in (work, state):
        folder.mkdir(parents=True)
        (folder / "disk").write_text("installed")
    disks = Disks(tmp_path / "disks.json")
    assert disks.attach("mgr01", "vm-1", [spec]) == []  # the first VM owns what is there
    assert disks.attach("mgr01", "vm-1", [spec]) == []  # a power cycle is a reboot
    assert (state / "disk").exists()
    moved = disks.attach("mgr01", "vm-2", [spec])  # a redeploy: a new VM
    assert sorted(p.name for p in moved) == ["mgr01.vm-vm-1", "twin-state.vm-vm-1"]
    assert not state.exists() and (tmp_path / "twin-state.vm-vm-1" / "disk").read_text() == "installed"


def secret_fields(value: object, path: str = "") -> set[str]:
    """Every field of a site document holding a secret reference, found by walking it (not by the plan)."""
    if isinstance(value, dict):
        return {f for k, v in value.items() for f in secret_fields(v, f"{path}.{k}" if path else str(k))}
    if isinstance(value, list):
        return {f for i, v in enumerate(value) for f in secret_fields(v, f"{path}[{i}]")}
    return {path} if isinstance(value, str) and is_reference(value) else set()


def test_the_plan_lists_every_secret_reference_the_site_holds() -> None:
    s = site(
        rebuild={"ldap_admin": {"dn": "cn=admin,dc=example,dc=test", "password": "file:ldap-admin"}},
        notifications={"webhook_url": "file:hook"},
        evidence_signing_key="file:evidence.pem",
    )
    planned = {c.field for c in rotation.credentials(s, [n.name for n in s.nodes()])}
    assert planned == secret_fields(s.model_dump(mode="json"))
