"""Composition root of the ems-sim service: its app and its migrations (no consumers, no events)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from quxiang.common.auth import KeySet
from quxiang.common.config import Config
from quxiang.common.db import make_engine
from quxiang.common.service import ServiceDefinition, build_app
from quxiang.ems_sim.entrypoints import admin_api, graduates_api
from quxiang.ems_sim.entrypoints.context import EXTENSION_KEY
from quxiang.ems_sim.entrypoints.faults import faults_from_environment, install_faults
from quxiang.ems_sim.service.context import EmsSim
from quxiang.ems_sim.service.faults import FaultSwitch

NAME = "ems-sim"


def build_ems_sim(config: Config) -> EmsSim:
    engine = make_engine(config.database_url_for(NAME))
    return EmsSim(config=config, engine=engine, faults=FaultSwitch(faults_from_environment()))


def create_app(config: Config, keys: KeySet | None = None) -> Flask:
    service = build_ems_sim(config)
    app = build_app(NAME, config, engine=service.engine, keys=keys,
                    blueprints=[graduates_api.blueprint, admin_api.blueprint],
                    api_title="就业管理系统模拟 ems-sim")
    app.extensions[EXTENSION_KEY] = service
    install_faults(app, service)
    return app


SERVICE = ServiceDefinition(
    name=NAME,
    create_app=create_app,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)
