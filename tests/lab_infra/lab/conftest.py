"""The lab tests share one running lab for the session (infra/lab/pytest_fixture.py)."""

from infra.lab.pytest_fixture import lab  # noqa: F401
