"""Composition root of the sync-gateway service: its app, its consumers, its migrations."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from quxiang.common.config import Config
from quxiang.common.service import ServiceDefinition, build_app

NAME = "sync-gateway"


def create_app(config: Config) -> Flask:
    return build_app(NAME, config, api_title="数据同步 sync-gateway")


SERVICE = ServiceDefinition(
    name=NAME,
    create_app=create_app,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)
