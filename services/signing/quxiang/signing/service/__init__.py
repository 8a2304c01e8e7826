"""Use cases: one function per command, taking a unit of work; the only place that commits."""
