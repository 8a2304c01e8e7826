"""Pure rules of the employment management system stand-in: record kinds and fields, faults."""
