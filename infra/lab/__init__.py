"""The embedded lab (issue #5): `securemode lab up | down | status` on loopback.

Public interface: :func:`securemode.infra.lab.lifecycle.up` / :func:`~securemode.infra.lab.lifecycle.down` (the CLI
calls them through ``infra/lab_cli.py``), :class:`securemode.infra.lab.manifest.Manifest` (what a running lab is:
read it with :func:`securemode.infra.lab.manifest.read_manifest`), :mod:`securemode.infra.lab.health` (probes), and the
pytest fixture in :mod:`securemode.infra.lab.pytest_fixture`.
"""
