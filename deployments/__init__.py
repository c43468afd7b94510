"""Served deployments: `secure-mode-deployment` on demand and from events, `reverify` on a schedule."""
