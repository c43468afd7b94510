"""The pipeline tests share the session's managed Prefect server (tests/conftest.py: prefect_api)."""
