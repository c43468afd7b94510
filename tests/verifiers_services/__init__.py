"""Tests of the NTP, LDAP, syslog and DNS verifiers against the real lab services."""
