"""Client certificate revocation by OCSP, as the node's global OCSP settings say (guide: OCSP state Override with
the site's responder URL).

Before a client certificate becomes a login, the node asks the responder (``ocsp_responder_url`` when the state is
OVERRIDE; when ON, the certificate's own AIA OCSP URL first). A certificate the responder reports REVOKED is
refused. GUESS (marked, see FIDELITY.md): what a real node does when the responder cannot answer is not
documented; the twin then accepts the certificate and logs a warning, so an unreachable responder is not a
lockout.
"""

from __future__ import annotations

import logging
import urllib.request
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID

from securemode.pexip.certificates import split_pem

log = logging.getLogger("securemode.infra.twin.ocsp")
TIMEOUT_S = 3.0


def _issuer(cert: x509.Certificate, trusted_pem: str) -> x509.Certificate | None:
    for block in split_pem(trusted_pem):
        candidate = x509.load_pem_x509_certificate(block.encode())
        if candidate.subject == cert.issuer:
            return candidate
    return None


def _aia_url(cert: x509.Certificate) -> str | None:
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return None
    return next(
        (str(d.access_location.value) for d in aia if d.access_method == AuthorityInformationAccessOID.OCSP), None
    )


def responder_url(cert: x509.Certificate, settings: dict[str, Any]) -> str | None:
    state, url = str(settings.get("ocsp_state") or "OFF"), str(settings.get("ocsp_responder_url") or "")
    if state == "OVERRIDE":
        return url or None
    if state == "ON":
        return _aia_url(cert) or url or None
    return None


def revoked(der: bytes, settings: dict[str, Any], trusted_pem: str) -> bool:
    """True only when the responder the settings name says the certificate is revoked."""
    cert = x509.load_der_x509_certificate(der)
    url = responder_url(cert, settings)
    issuer = _issuer(cert, trusted_pem) if url else None
    if url is None or issuer is None or not url.startswith(("http://", "https://")):
        return False
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256()).build()
    body = request.public_bytes(serialization.Encoding.DER)
    try:
        headers = {"Content-Type": "application/ocsp-request"}
        post = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - http(s) only, checked above
        with urllib.request.urlopen(post, timeout=TIMEOUT_S) as reply:  # noqa: S310 - the configured responder
            answer = ocsp.load_der_ocsp_response(reply.read())
    except (OSError, ValueError) as exc:
        log.warning(
            "OCSP responder %s did not answer for serial %x (%s): certificate accepted",
            url,
            cert.serial_number,
            type(exc).__name__,
        )
        return False
    if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        log.warning(
            "OCSP responder %s: %s for serial %x: certificate accepted",
            url,
            answer.response_status.name,
            cert.serial_number,
        )
        return False
    if not _signed_by(answer, issuer):
        log.warning("OCSP responder %s: the response is not signed by the issuer: certificate accepted", url)
        return False
    return answer.certificate_status == ocsp.OCSPCertStatus.REVOKED


def _signed_by(answer: ocsp.OCSPResponse, issuer: x509.Certificate) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    key, algorithm = issuer.public_key(), answer.signature_hash_algorithm
    if algorithm is None:
        return False
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(answer.signature, answer.tbs_response_bytes, ec.ECDSA(algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(answer.signature, answer.tbs_response_bytes, padding.PKCS1v15(), algorithm)
        else:
            return False
    except Exception:
        return False
    return True
