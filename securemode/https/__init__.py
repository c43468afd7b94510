"""The HTTPS client for a node's web interface (verified connections, logins), shared by tasks and verifiers."""
