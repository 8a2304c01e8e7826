"""Every qx_* series an alert rule or a dashboard panel reads must be a series the code exposes,
suffix included (a counter is read as <name>_total, a histogram as _bucket/_sum/_count): a typo
is an alert that never fires and a panel that shows "no data"."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy/prometheus/alerts.yml"
SUFFIXES = {"Counter": ("_total",), "Histogram": ("_bucket", "_sum", "_count"), "Summary": ("_sum", "_count"),
            "Gauge": ("",), "GaugeMetricFamily": ("",), "CounterMetricFamily": ("_total",)}
# rabbitmq_prometheus (per-object metrics on) and Prometheus' own series the rules may read.
EXTERNAL = {"up", "rabbitmq_queue_messages", "rabbitmq_queue_messages_ready", "rabbitmq_queue_messages_unacked",
            "rabbitmq_queue_consumers"}
FUNCTIONS = {"sum", "max", "min", "avg", "rate", "increase", "absent", "histogram_quantile", "topk", "time",
             "label_replace",
             "by", "on", "and", "or", "unless", "without", "count", "le", "ignoring", "humanizeDuration"}


def exposed_series() -> set[str]:
    """Names as Prometheus stores them, from every metric constructor call in the code."""
    names: set[str] = set()
    for path in [*ROOT.glob("libs/common/quxiang/**/*.py"), *ROOT.glob("services/*/quxiang/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                continue
            kind = getattr(node.func, "id", getattr(node.func, "attr", ""))
            kind = {"PromCounter": "Counter"}.get(kind, kind)
            if kind in SUFFIXES and str(node.args[0].value).startswith("qx_"):
                base = re.sub(r"_total$", "", node.args[0].value) if "Counter" in kind else node.args[0].value
                names.update(base + s for s in SUFFIXES[kind])
    return names


def series_in(expr: str) -> set[str]:
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)          # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)                     # matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)                    # ranges
    expr = re.sub(r"\b(by|on|without|ignoring)\s*\([^)]*\)", "", expr)
    return {w for w in re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", expr)
            if w not in FUNCTIONS and not re.fullmatch(r"\d+|e\d+", w)}


def rule_exprs() -> list[tuple[str, str]]:
    if not RULES.exists():
        pytest.fail(f"no alert rules: {RULES.relative_to(ROOT)} is missing, so nothing pages anyone")
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [(r.get("alert") or r.get("record"), r["expr"]) for g in groups for r in g["rules"]]


def dashboard_exprs() -> list[tuple[str, str]]:
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/quxiang.json").read_text())
    panels = [p for top in dashboard["panels"] for p in [top, *top.get("panels", [])]]
    return [(p.get("title", ""), t["expr"]) for p in panels for t in p.get("targets", []) if t.get("expr")]


def test_the_code_exposes_the_metrics_the_docs_name() -> None:
    series = exposed_series()
    for name in ("qx_outbox_oldest_age_seconds", "qx_sync_deliveries_total", "qx_consumer_messages_total",
                 "qx_sync_lag_seconds_bucket", "qx_feed_webhook_attempts_total", "qx_sync_failed_records"):
        assert name in series, name


@pytest.mark.parametrize("source", [rule_exprs, dashboard_exprs], ids=["alert rules", "dashboard"])
def test_every_series_read_is_exposed(source) -> None:
    known = exposed_series() | EXTERNAL
    wrong = {f"{title}: {name}" for title, expr in source() for name in series_in(expr) - known}
    assert not wrong, f"series no code exposes (a typo or a missing suffix): {sorted(wrong)}"


def test_the_check_catches_a_typo_and_a_missing_suffix() -> None:
    known = exposed_series() | EXTERNAL
    assert series_in("max(qx_outbox_oldest_age_second) > 60") - known == {"qx_outbox_oldest_age_second"}
    assert series_in('rate(qx_sync_deliveries{outcome="x"}[5m])') - known == {"qx_sync_deliveries"}
    assert not series_in('sum by (queue) (rabbitmq_queue_messages{queue=~".*dlq"}) > 0') - known


def test_the_compose_prometheus_loads_the_rules() -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert "/etc/prometheus/alerts.yml" in config["rule_files"]
    mounted = compose["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in mounted
    names = [name for name, _ in rule_exprs()]
    assert len(names) == len(set(names)) and "QuxiangJobStale" in names
