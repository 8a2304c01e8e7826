"""The sync-gateway service. Owns (in its own database): The sync ledger: what was mirrored into the
employment management system, when, with which result.
"""
