"""The embedded lab (issue #5): `securemode lab up | down | status` on loopback.

Public interface: :func:`infra.lab.lifecycle.up` / :func:`~infra.lab.lifecycle.down` (the CLI calls
them through ``infra/lab_cli.py``), :class:`infra.lab.manifest.Manifest` (what a running lab is:
read it with :func:`infra.lab.manifest.read_manifest`), :mod:`infra.lab.health` (probes), and the
pytest fixture in :mod:`infra.lab.pytest_fixture`.
"""
