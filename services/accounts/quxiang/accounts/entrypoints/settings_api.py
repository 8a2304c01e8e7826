"""功能设置: switching modules on for a province, agreement types per school."""

from __future__ import annotations

from flask_smorest import Blueprint

blueprint = Blueprint("settings", __name__, description="功能设置 Function settings")
