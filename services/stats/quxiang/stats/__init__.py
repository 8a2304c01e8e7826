"""The stats service. Owns (in its own database): Read models only: counters per school, province,
module and destination, built from events.
"""
