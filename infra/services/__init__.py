"""Launchers for the lab's real third-party services: slapd, chronyd, rsyslogd and dnsmasq.

Each module has ``start(workdir, address=..., port=..., ...) -> handle``; the handle carries the PID,
the endpoints, the start time and an idempotent ``stop()`` that ends the daemon by PID.
"""
