"""The records service. Owns (in its own database): The graduate roster (生源) and the archive (档案) and
hukou (户口) registrations with their reviews.
"""
