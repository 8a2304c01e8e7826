"""A page of an owning service's snapshot as ``requests`` answers it (the HTTP boundary, not a
database): what the snapshot readers' tests hand them."""

from __future__ import annotations


class Page:
    status_code = 200

    def __init__(self, body):
        self.body = body
        self.headers = {"Content-Type": "application/json"}

    def raise_for_status(self):
        return None

    def json(self):
        return self.body
