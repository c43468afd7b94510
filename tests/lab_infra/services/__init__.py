"""Tests of the lab service launchers and the lab CA (real daemons on loopback)."""
