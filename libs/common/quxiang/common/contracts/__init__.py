"""The published event types of every service, registered once in the suite's catalogue.

A producer and its consumers import the same module, so they agree on the schema by construction.
Importing ``quxiang.common.contracts`` registers them all.
"""

from quxiang.common.contracts import accounts, destinations, records, signing  # noqa: F401 - registration on import
