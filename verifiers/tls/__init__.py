"""TLS probes of a server as a client would see it, in modules of one concern each:

* :mod:`~securemode.verifiers.tls.wire` — record bytes: alerts, the ServerHello's version, our ClientHello;
* :mod:`~securemode.verifiers.tls.contexts` — the client offers (one version, anonymous DH, verifying, inspecting);
* :mod:`~securemode.verifiers.tls.handshake` — one handshake over a memory BIO, observed as a :class:`Handshake`;
* :mod:`~securemode.verifiers.tls.certificates` — certificate evidence: names, validity, key match;
* :mod:`~securemode.verifiers.tls.judges` — when a refusal or an acceptance is proven (else ERROR);
* :mod:`~securemode.verifiers.tls.legacy` — the self-test that this client can offer TLS 1.0/1.1 at all;
* :mod:`~securemode.verifiers.tls.checks` — the checks the stages call, each on an :class:`Endpoint`.

The names below are the package's API: ``tls.check_protocol_refused(control, target, endpoint, version)``.
"""

from securemode.endpoint import ClientCert, Endpoint
from securemode.verifiers.tls.certificates import certificate_evidence, name_matches, subject_alt_names
from securemode.verifiers.tls.checks import (
    check_anon_dh_refused,
    check_chain_trusted,
    check_key_matches,
    check_key_pair,
    check_key_possession,
    check_names,
    check_protocol_accepted,
    check_protocol_refused,
    check_validity,
    service_answers_tls,
)
from securemode.verifiers.tls.contexts import (
    ANON_ONLY_CIPHERS,
    LEGACY_CIPHERS,
    TlsVersion,
    anon_dh_context,
    inspecting_context,
    verifying_context,
    version_context,
)
from securemode.verifiers.tls.handshake import DEFAULT_TIMEOUT_S, Handshake, TlsConnectError, handshake
from securemode.verifiers.tls.judges import (
    REFUSAL_ALERTS,
    Control,
    control_handshake,
    judge_acceptance,
    judge_refusal,
    record_refusal,
)
from securemode.verifiers.tls.legacy import legacy_probe_self_test

__all__ = [
    "ANON_ONLY_CIPHERS",
    "DEFAULT_TIMEOUT_S",
    "LEGACY_CIPHERS",
    "REFUSAL_ALERTS",
    "ClientCert",
    "Control",
    "Endpoint",
    "Handshake",
    "TlsConnectError",
    "TlsVersion",
    "anon_dh_context",
    "certificate_evidence",
    "check_anon_dh_refused",
    "check_chain_trusted",
    "check_key_matches",
    "check_key_pair",
    "check_key_possession",
    "check_names",
    "check_protocol_accepted",
    "check_protocol_refused",
    "check_validity",
    "control_handshake",
    "handshake",
    "inspecting_context",
    "judge_acceptance",
    "judge_refusal",
    "legacy_probe_self_test",
    "name_matches",
    "record_refusal",
    "service_answers_tls",
    "subject_alt_names",
    "verifying_context",
    "version_context",
]
