"""账号管理: schools, departments and their accounts with module permissions."""

from __future__ import annotations

from flask_smorest import Blueprint

blueprint = Blueprint("management", __name__, description="账号管理 Account management")
