"""Idempotent ensure-operations, grouped by stage: read state, diff against the site, change only what differs."""
