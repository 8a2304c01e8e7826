"""Composition root of the records service: its app, its consumers, its migrations."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from quxiang.common.config import Config
from quxiang.common.service import ServiceDefinition, build_app

NAME = "records"


def create_app(config: Config) -> Flask:
    return build_app(NAME, config, api_title="生源与档案户口 records")


SERVICE = ServiceDefinition(
    name=NAME,
    create_app=create_app,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)
