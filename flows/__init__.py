"""Prefect flows: one per stage, the `secure-mode-deployment` pipeline, and `reverify`."""
