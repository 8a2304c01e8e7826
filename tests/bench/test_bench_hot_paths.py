"""``bench/bench_hot_paths.py`` at a tiny size: each path runs through the module at a base revision
and the current one, and the run ends with the line of figures."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import bindparam, create_engine, text

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
bench_hot_paths = importlib.import_module("bench_hot_paths")

pytestmark = pytest.mark.timeout(120)


def _has_history() -> bool:
    probe = subprocess.run(["git", "rev-parse", "--verify", "HEAD"], cwd=bench_hot_paths.ROOT, capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _has_history(), reason="needs the git history of the checkout")
def test_a_tiny_run_against_head_ends_with_the_figures(capsys, monkeypatch):
    postgres = bench_hot_paths._POSTGRES.reachable()
    made: list[str] = []
    database = bench_hot_paths._POSTGRES.database

    def recorded(metadata):
        engine = database(metadata)
        made.append(engine.url.database)
        return engine
    monkeypatch.setattr(bench_hot_paths._POSTGRES, "database", recorded)
    assert bench_hot_paths.main(["--base", "HEAD", "--calls", "3", "--rounds", "1"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    figures = dict(pair.split("=") for pair in out[-1].split())
    paths = [path for path in bench_hot_paths.MODULES if postgres or not path.endswith("_pg")]
    assert set(figures) == {f"{prefix}{path}_us" for path in paths for prefix in ("", "base_")}
    assert all(re.fullmatch(r"\d+\.\d", value) and float(value) > 0 for value in figures.values())
    assert len(out) == len(paths) + 1
    if postgres:  # the PostgreSQL paths' databases (base and current) are dropped when the run ends
        assert len(made) == 2
        with create_engine(bench_hot_paths._POSTGRES.admin_url).connect() as conn:
            left = conn.execute(text("SELECT datname FROM pg_database WHERE datname IN :names")
                                .bindparams(bindparam("names", expanding=True)), {"names": made}).all()
        assert left == []


@pytest.mark.skipif(not _has_history(), reason="needs the git history of the checkout")
def test_the_base_module_is_the_revision_s_text_not_the_current_one(tmp_path):
    file, _ = bench_hot_paths.MODULES["tokens"]
    base = bench_hot_paths.module_at("HEAD", file, "qx_probe_tokens", tmp_path)
    assert (tmp_path / "qx_probe_tokens.py").read_bytes() == subprocess.run(
        ["git", "show", f"HEAD:{file}"], cwd=bench_hot_paths.ROOT, check=True, capture_output=True).stdout
    assert base.__name__ == "qx_probe_tokens" and hasattr(base, "TokenVerifier")


def test_an_unknown_revision_is_refused_with_a_message(capsys):
    assert bench_hot_paths.main(["--base", "no-such-revision-anywhere", "--calls", "1", "--rounds", "1"]) == 2
    error = capsys.readouterr().err
    assert "cannot read libs/common/quxiang/common/auth/tokens.py at no-such-revision-anywhere" in error
