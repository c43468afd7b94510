"""Fixtures: the lab CA and the real lab services (see tests/lab_infra/services/fixtures.py)."""

from tests.lab_infra.services.fixtures import (  # noqa: F401 - imported fixtures register with pytest
    dns_servers,
    lab_ca,
    ldap_server,
    ntp_servers,
    rogue_ca,
    syslog_receiver,
)
