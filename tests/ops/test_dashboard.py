"""The Grafana dashboard and the alert rules query only metrics `pdl run` exports."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from consumers.metrics import exported_names
from tests.ops.support import ROOT

DASHBOARD = ROOT / "infra" / "grafana" / "pdl-dashboard.json"
RULES = ROOT / "infra" / "prometheus" / "rules" / "pdl.rules.yml"
OPERATORS = ROOT / "docs" / "OPERATORS.md"

#: PromQL functions, aggregations and keywords the files use (anything else is a metric)
PROMQL = {
    *("sum", "max", "min", "avg", "count", "rate", "increase", "deriv", "delta"),
    *("histogram_quantile", "absent", "and", "or", "unless", "bool", "offset"),
}
#: metrics Prometheus itself makes for every target
PROMETHEUS = {"up"}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression (or Grafana variable query) selects."""
    e = re.sub(r"label_values\(\s*([^,)]+?)\s*,\s*\w+\s*\)", r"\1", expr)
    e = re.sub(r'"[^"]*"', "", e)  # label values
    e = re.sub(r"\{[^}]*\}", "", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)  # ranges
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    e = re.sub(r"\$\w+", "", e)  # Grafana variables
    return set(re.findall(r"\b[A-Za-z_:][A-Za-z0-9_:]*\b", e)) - PROMQL


def dashboard_queries(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                yield value
            else:
                yield from dashboard_queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from dashboard_queries(item)


def test_dashboard_is_json_and_queries_only_exported_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = list(dashboard_queries(dashboard))
    assert len(queries) >= 10
    queried = set().union(*(metric_names(q) for q in queries))
    assert queried - PROMETHEUS <= exported_names(), queried - PROMETHEUS - exported_names()
    assert {
        "pdl_consumer_lag_messages",
        "pdl_consumer_lag_seconds",
        "pdl_events_consumed_total",
        "pdl_dead_letters_total",
        "pdl_projection_apply_seconds_bucket",
        "pdl_checkpoint_commit_seconds_bucket",
        "pdl_keystore_keys",
    } <= queried
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert all(p["targets"] for p in panels)
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_metric_names_are_parsed_out_of_promql() -> None:
    assert metric_names(
        'histogram_quantile(0.95, sum by (le) (rate(a_bucket{group=~"$group"}[$__rate_interval])))'
    ) == {"a_bucket"}
    assert metric_names("label_values(b, group)") == {"b"}
    assert metric_names('max by (topic) (c) > 300 and up{job="pdl"} == 0') == {"c", "up"}


def test_alert_rules_and_operator_docs_name_only_exported_metrics() -> None:
    exported = exported_names()
    histograms = {n.removesuffix("_bucket") for n in exported if n.endswith("_bucket")}
    for path in (RULES, OPERATORS):
        named = set(re.findall(r"\bpdl_[a-z0-9_]+\b", path.read_text(encoding="utf-8")))
        assert named, path
        assert named <= exported | histograms, (path, named - exported - histograms)
