"""Persistent state of the twin: SQLite objects, security settings, wizard answers, audit events."""
