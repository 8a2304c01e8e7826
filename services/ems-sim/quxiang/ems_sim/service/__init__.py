"""Use cases: idempotent writes, reads, faults and counters."""
