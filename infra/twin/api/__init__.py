"""The Management API: Tastypie-style configuration, status and command endpoints."""
