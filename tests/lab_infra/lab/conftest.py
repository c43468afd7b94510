"""The lab tests share one running lab for the session (infra/lab/pytest_fixture.py)."""

from securemode.infra.lab.pytest_fixture import lab  # noqa: F401
