"""Tables and the store of records and idempotency keys."""
