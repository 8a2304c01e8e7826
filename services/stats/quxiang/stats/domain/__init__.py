"""Pure Python: entities, value objects, state machines, domain events. No Flask, SQLAlchemy or kombu."""
