"""How a stored upload (a scan, a 解约函, a proof) is answered: its own bytes and type, the name it
was uploaded under (or a fallback) with the extension of its content, and its SHA-256."""

from __future__ import annotations

import io
from typing import Any

import flask

from quxiang.common.uploads import download_name


def attachment_response(attachment: Any, fallback: str) -> flask.Response:
    """``attachment``: a stored row with ``data``, ``content_type``, ``filename`` and ``sha256``.
    flask.send_file writes a name that is not ASCII as RFC 5987 ``filename*``."""
    response = flask.send_file(io.BytesIO(bytes(attachment.data)), mimetype=attachment.content_type,
                               as_attachment=True,
                               download_name=download_name(attachment.filename, attachment.content_type, fallback))
    response.headers["X-Content-SHA256"] = attachment.sha256
    return response
