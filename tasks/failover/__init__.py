"""The failover's changes (isolating the primary, powering the fallback on) and the waits between them."""
