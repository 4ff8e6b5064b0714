"""The alert rules and the Grafana dashboard name only metrics the app exports.

Every expression is parsed (promtool, from Debian's `prometheus` package, when it is
installed; the tokenizer below always) and each metric it names must be in the real app's
/metrics output.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import orjson
import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "monitoring" / "alerts.yml"
DASHBOARD = ROOT / "docs" / "monitoring" / "grafana-dashboard.json"

# What the issue asks the rules to cover, by the metric each must watch.
REQUIRED = {
    "NoLiveWorker": "dramatiq_workers_live",
    "QueueBacklog": "dramatiq_queue_messages",
    "DeadLetteredMessages": "dramatiq_queue_messages",
    "ActorFailures": "dramatiq_actor_messages_failed_total",
    "SyncFailures": "dramatiq_actor_messages_failed_total",
    "WebhookErrors": "http_requests_total",
    "WebhookUnavailable": "http_requests_total",
    "PixelErrors": "http_requests_total",
    "PixelUnavailable": "http_requests_total",
    "ShopifyDeprecatedCalls": "shopify_api_deprecated_calls_total",
}

PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "bool", "offset", "inf", "nan",
}  # fmt: skip
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
    "summary": ("", "_count", "_sum", "_created"),
}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (a tokenizer, not a full parser)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings (label values, regexes)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range selectors
    # Label lists of grouping and matching modifiers.
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"(?<![A-Za-z0-9_:])\d[0-9A-Za-z.]*", " ", text)  # numbers, durations
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        name = match.group(0)
        following = text[match.end() :].lstrip()
        if following.startswith("(") or name.lower() in PROMQL_WORDS:
            continue  # a function or aggregation, or a keyword
        names.add(name)
    return names


def _rules() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _dashboard_exprs() -> list[str]:
    dashboard = orjson.loads(DASHBOARD.read_bytes())
    return [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]


def test_the_tokenizer_finds_metrics_and_skips_functions_labels_and_keywords():
    expr = (
        'sum by (route) (rate(http_requests_total{route="/webhooks", status=~"5.."}[5m]))'
        " / on(route) clamp_min(sum(rate(other_metric[1h] offset 5m)), 1e-9) > 0.01"
    )
    assert metric_names(expr) == {"http_requests_total", "other_metric"}


def test_promtool_accepts_the_rules_when_installed():
    promtool = shutil.which("promtool")
    if promtool is None:
        # The tokenizer checks below still run; promtool adds PromQL's own parser.
        return
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_every_rule_and_panel_reads_metrics_the_app_exports(client):
    exposition = await (await client.get("/metrics")).text()
    exported = set()
    for family in text_string_to_metric_families(exposition):
        exported |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    assert "dramatiq_workers_live" in exported

    rules = _rules()
    by_name = {rule["alert"]: rule for rule in rules}
    for alert, metric in REQUIRED.items():
        assert alert in by_name, f"missing alert {alert}"
        assert metric in metric_names(by_name[alert]["expr"]), alert
    for rule in rules:
        assert {"alert", "expr", "for", "labels", "annotations"} <= set(rule), rule
        assert rule["labels"]["severity"] in {"warning", "critical"}
        names = metric_names(rule["expr"])
        assert names, rule["alert"]
        assert names <= exported, f"{rule['alert']} reads unknown metrics {names - exported}"

    exprs = _dashboard_exprs()
    assert exprs
    for expr in exprs:
        names = metric_names(expr)
        assert names and names <= exported, f"panel reads unknown metrics {names - exported}"
