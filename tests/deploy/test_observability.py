"""The dashboard and the alert rules query metrics that exist: ours are defined in the services'
code; the rest come from FastStream, RabbitMQ's Prometheus plugin, or Prometheus itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
OBS = ROOT / "deploy" / "observability"
OURS = ("ingress_", "conversation_", "registration_", "notifier_")
THEIRS = ("faststream_", "rabbitmq_", "up")
FUNCTIONS = {"sum", "rate", "increase", "max", "min", "histogram_quantile", "deriv", "clamp_min", "by", "and",
             "le", "queue", "status", "type", "step", "outcome", "reason", "app_name", "handler", "or"}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"(?<![\w.])\d+(\.\d+)?(e-?\d+)?", "", expr)  # numbers (1e-9)
    return {w for w in re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", expr) if w not in FUNCTIONS}


def expressions() -> list[str]:
    rules = yaml.safe_load((OBS / "alerts.yml").read_text(encoding="utf-8"))
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((OBS / "grafana" / "dashboards" / "congress-bot.json").read_text(encoding="utf-8"))
    exprs += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    return exprs


def test_every_queried_metric_exists():
    source = "\n".join(p.read_text(encoding="utf-8") for p in ROOT.glob("services/*/src/**/*.py"))
    for expr in expressions():
        for name in metric_names(expr):
            if name.startswith(OURS):
                base = re.sub(r"_(bucket|sum|count)$", "", name)
                assert f'"{base}"' in source, f"{name} (in {expr!r}) is not defined by any service"
            else:
                assert name.startswith(THEIRS), f"unknown metric {name} in {expr!r}"


def test_alert_rules_have_what_prometheus_needs():
    rules = yaml.safe_load((OBS / "alerts.yml").read_text(encoding="utf-8"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert {"alert", "expr", "labels", "annotations"} <= set(rule), rule.get("alert")
            assert rule["labels"]["severity"] in {"info", "warning", "critical"}
