"""The compromised deployment's certificates: found through the CA adapter (what it issued for the rebuilt
nodes' names) and in the engine's state (the administrators' client certificates), revoked through the adapter.

The list is made once, before anything is re-issued, and kept in the rebuild's record; revoking is
idempotent (the lab CA says "already revoked"). A CA adapter that cannot revoke (the manual one) leaves each
certificate as a named action for a person at the CA.
"""

from __future__ import annotations

from cryptography import x509

from securemode.ca_adapters import adapter_for
from securemode.pexip.state import site_dir
from securemode.site_loader import LoadedSite

CLIENT_FOLDER = "client-certificates"


def node_names(loaded: LoadedSite, nodes: list[str]) -> set[str]:
    """Every name a rebuilt node's certificate may carry: host name, FQDN, address, SIP TLS FQDN."""
    names: set[str] = set()
    for node in loaded.site.nodes():
        if node.name in nodes:
            names |= {node.hostname, node.fqdn, str(node.address)}
            names |= {n for n in (getattr(node, "sip_tls_fqdn", None),) if n}
    return names


def _leaf(pem: str) -> str:
    return pem.split("-----END CERTIFICATE-----", 1)[0] + "-----END CERTIFICATE-----\n"


def client_certificates(loaded: LoadedSite) -> list[str]:
    """The administrators' client certificates the engine issued (leaf PEMs)."""
    folder = site_dir(loaded) / CLIENT_FOLDER
    return [_leaf(p.read_text(encoding="ascii")) for p in sorted(folder.glob("*.pem"))] if folder.is_dir() else []


def old_certificates(loaded: LoadedSite, nodes: list[str]) -> dict[str, list[str]]:
    """``{"node": [...], "client": [...]}``: what must be revoked (public certificates only)."""
    adapter = adapter_for(loaded)
    issued_for = getattr(adapter, "issued_for", None)
    node = issued_for(node_names(loaded, nodes)) if issued_for else []
    client = client_certificates(loaded) if loaded.site.management_node.name in nodes else []
    return {"node": node, "client": client}


def serial_of(pem: str) -> str:
    return f"{x509.load_pem_x509_certificate(pem.encode()).serial_number:x}"


def revoke_all(loaded: LoadedSite, pems: list[str], reason: str) -> tuple[list[str], list[str]]:
    """Revoke each certificate through the site's CA adapter; returns (serials revoked now or before, serials
    a person must revoke at the CA because the adapter cannot)."""
    adapter = adapter_for(loaded)
    revoke = getattr(adapter, "revoke", None)
    done, manual = [], []
    for pem in dict.fromkeys(pems):
        if revoke is None:
            manual.append(serial_of(pem))
            continue
        revoke(pem, reason)
        done.append(serial_of(pem))
    return done, manual


def served_serial(address: str, port: int = 443, timeout_s: float = 5.0) -> str | None:
    """The serial of the certificate a node serves (read to compare, not trusted), or None when it does not answer."""
    import socket
    import ssl

    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    try:
        with socket.create_connection((address, port), timeout=timeout_s) as raw, ctx.wrap_socket(raw) as tls:
            der = tls.getpeercert(binary_form=True)
    except OSError:
        return None
    return f"{x509.load_der_x509_certificate(der).serial_number:x}" if der else None


def still_served(loaded: LoadedSite, nodes: list[str], old: list[str]) -> dict[str, str]:
    """Rebuilt node -> the serial of an old certificate it still serves (none after a clean rebuild)."""
    old_serials = {serial_of(pem) for pem in old}
    found = {}
    for node in loaded.site.nodes():
        if node.name in nodes:
            serial = served_serial(str(node.address))
            if serial in old_serials:
                found[node.name] = serial
    return found
