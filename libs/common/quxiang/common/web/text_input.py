"""Control characters are refused in every path and query parameter and JSON body, naming the field.

PostgreSQL cannot store NUL in text (the write fails, the caller would get a 500), SQLite stores it
silently, and a spreadsheet export cannot hold any C0 control character but tab, newline and
carriage return. No user types them; they come from broken clients and probes. The check costs one
search of the raw body; only a body that seems to hold one is parsed to name the field.
"""

from __future__ import annotations

import json
import re
from typing import Any

import flask
import marshmallow as ma

from quxiang.common.validators import CONTROL_CHARACTER_REASON, CONTROL_CHARACTERS

__all__ = ["control_character_fields", "install_control_character_check"]

# What a control character looks like inside a JSON string (escaped, as JSON requires).
# DEL may also come as itself: JSON allows it unescaped (the C0 controls it does not).
_ESCAPED = re.compile(rb"\\u(?:00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])|[dD][89a-fA-F])|\x7f")


def control_character_fields(value: Any, path: str = "") -> list[str]:
    """The dotted paths (list items by index) of the strings in ``value`` that hold a control
    character; keys are checked too."""
    if isinstance(value, str):
        return [path or "body"] if CONTROL_CHARACTERS.search(value) else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if CONTROL_CHARACTERS.search(str(key)):
                found.append(name)
            found.extend(control_character_fields(item, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(control_character_fields(item, f"{path}.{index}" if path else str(index)))
    return found


def _refuse_control_characters() -> None:
    request = flask.request
    bad = [name for name, value in request.args.items(multi=True)
           if CONTROL_CHARACTERS.search(value) or CONTROL_CHARACTERS.search(name)]
    bad.extend(name for name, value in (request.view_args or {}).items()  # /schools/%00 and the like
               if isinstance(value, str) and CONTROL_CHARACTERS.search(value))
    if request.is_json:  # a chunked body has no Content-Length: read it all the same
        raw = request.get_data(cache=True)
        if _ESCAPED.search(raw):
            try:
                bad.extend(control_character_fields(json.loads(raw)))
            except ValueError:
                pass  # not JSON at all: the view's parser says so
    if bad:
        raise ma.ValidationError({name: [CONTROL_CHARACTER_REASON] for name in bad})


def install_control_character_check(app: flask.Flask) -> None:
    app.before_request(_refuse_control_characters)
