"""The signing service. Owns (in its own database): Invitations, agreements (online, offline,
supplementary), terminations, destination registrations, reviews and agreement PDFs.
"""
