"""The HTTP API: graduates and records, the admin endpoints, fault injection."""
