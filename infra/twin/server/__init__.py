"""The HTTPS listener: per-connection TLS posture from state, dispatch to the API and web surface."""
