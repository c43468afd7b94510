"""The lab CA's OCSP responder (RFC 6960 over HTTP POST, and GET with the request base64 in the path).

It answers for the certificates the lab CA issued (kept under ``signed/``), from the CA's revocation list
(``revoked.json``, written when a certificate is revoked through the lab CA adapter) read at every request, so a
revocation shows at once. Responses are signed by the issuing (intermediate) CA itself; a certificate the CA did
not issue gets ``unauthorized``. The site's ``global_settings.ocsp_responder_url`` points the nodes here.

``python -m securemode.infra.services.ocsp --ca-dir D --address A --port P``
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import sys
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp

from securemode.ca_adapters.issuing_ca import SIGNED_DIR, IssuingCA
from securemode.infra.services.process import ServiceHandle, ensure_workdir, spawn, stopped_on_failure, wait_ready

CONTENT_TYPE = "application/ocsp-response"
VALID_FOR = dt.timedelta(minutes=5)


def answer(ca_dir: Path, request_der: bytes) -> bytes:
    """The DER OCSP response to one DER request."""
    try:
        request = ocsp.load_der_ocsp_request(request_der)
    except ValueError:
        return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(
            serialization.Encoding.DER
        )
    ca = IssuingCA.load(ca_dir)
    leaf_path = ca_dir / SIGNED_DIR / f"{request.serial_number:x}.pem"
    if not leaf_path.is_file():
        return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(
            serialization.Encoding.DER
        )
    leaf = x509.load_pem_x509_certificate(leaf_path.read_bytes())
    revoked = ca.revoked_serials().get(leaf.serial_number)
    now = dt.datetime.now(dt.UTC)
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=leaf,
            issuer=ca.intermediate_cert,
            algorithm=request.hash_algorithm,
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
            this_update=now - dt.timedelta(seconds=5),
            next_update=now + VALID_FOR,
            revocation_time=dt.datetime.fromisoformat(revoked) if revoked else None,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, ca.intermediate_cert)
    )
    return ca.sign_ocsp(builder).public_bytes(serialization.Encoding.DER)


def handler_for(ca_dir: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._reply(answer(ca_dir, self.rfile.read(length)))

        def do_GET(self) -> None:
            text = unquote(self.path.lstrip("/"))
            if not text:  # a readiness probe
                self.send_response(200)
                self.end_headers()
                return
            try:
                request = base64.b64decode(text)
            except ValueError:
                request = b""
            self._reply(answer(ca_dir, request))

        def _reply(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return Handler


def _answers(address: str, port: int) -> bool:
    with urllib.request.urlopen(f"http://{address}:{port}/", timeout=1) as reply:
        return bool(reply.status == 200)


def start(workdir: Path | str, ca_dir: Path, address: str, port: int, timeout: float = 10.0) -> ServiceHandle:
    """Start the responder on ``address:port`` and wait until it answers."""
    t0 = time.perf_counter()
    work = ensure_workdir(workdir)
    argv = [
        sys.executable,
        "-m",
        "securemode.infra.services.ocsp",
        "--ca-dir",
        str(ca_dir),
        "--address",
        address,
        "--port",
        str(port),
    ]
    popen = spawn(argv, work, "ocsp.out")
    handle = ServiceHandle(
        name="ocsp",
        pid=popen.pid,
        workdir=work,
        endpoints={"ocsp": (address, port)},
        startup_s=0.0,
        executable=sys.executable,
        _popen=popen,
    )
    with stopped_on_failure(handle.stop):
        wait_ready(
            popen, lambda: _answers(address, port), what="OCSP responder", log_path=work / "ocsp.out", timeout=timeout
        )
    handle.startup_s = time.perf_counter() - t0
    return handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m securemode.infra.services.ocsp", description=__doc__)
    parser.add_argument("--ca-dir", type=Path, required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.address, args.port), handler_for(args.ca_dir))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
