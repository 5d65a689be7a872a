"""deploy/prometheus/slo.yml: the service-level objectives (availability 99.9 %, latency per
service) as recording rules and multi-window, multi-burn-rate alerts.

``promtool test rules`` runs the rule unit tests (deploy/prometheus/tests/slo_test.yml): alerts
fire on the burn rates of the SRE workbook and stop when the errors stop. The checks here make
sure the rules read only what the services export, cover every service, and leave out exactly
operations that exist.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from sotay_analytics.metrics import EXPORTED_METRICS as ANALYTICS_METRICS
from sotay_kit.metrics import EXPORTED_METRICS, HTTP_DURATION
from sotay_kit.topology import SERVICES

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS = ROOT / "deploy" / "prometheus"
SLO = PROMETHEUS / "slo.yml"

# (long window, short window, burn rate): Google SRE workbook, "Alerting on SLOs", table 5-8.
FAST = {("1h", "5m", 14.4), ("6h", "30m", 6.0)}
SLOW = {("1d", "2h", 3.0), ("3d", "6h", 1.0)}
BUDGETS = {"availability": 0.001, "latency": 0.01}


def promtool() -> str:
    """promtool from the PATH or from ``make promtool`` (Debian's package unpacked in .tools/)."""
    unpacked = ROOT / ".tools" / "prometheus" / "usr" / "bin" / "promtool"
    found = shutil.which("promtool")
    if found is None and not unpacked.exists():
        subprocess.run(
            ["make", "--no-print-directory", "promtool"], cwd=ROOT, check=False, timeout=600
        )
    if found is None and not unpacked.exists():
        pytest.fail(
            "promtool is missing: it comes with Debian's 'prometheus' package (make promtool)"
        )
    return found or str(unpacked)


@pytest.fixture(scope="module")
def rules() -> list[dict[str, Any]]:
    data = yaml.safe_load(SLO.read_text())
    return [rule for group in data["groups"] for rule in group["rules"]]


def _metric_names(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), pre_visit=visit)
    return names


def test_promtool_checks_the_rules_and_their_unit_tests_pass() -> None:
    tool = promtool()
    check = subprocess.run(
        [tool, "check", "rules", str(SLO), str(PROMETHEUS / "alerts.yml")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    unit = subprocess.run(
        [tool, "test", "rules", str(PROMETHEUS / "tests" / "slo_test.yml")],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert unit.returncode == 0, unit.stdout + unit.stderr
    assert "SUCCESS" in unit.stdout


def test_rules_read_only_exported_or_recorded_series(rules: list[dict[str, Any]]) -> None:
    recorded = {r["record"] for r in rules if "record" in r}
    exported = EXPORTED_METRICS | ANALYTICS_METRICS
    for rule in rules:
        for name in _metric_names(rule["expr"]):
            assert name in exported or name in recorded, (
                f"{rule.get('record') or rule['alert']}: {name}"
            )
    # The parameters (thresholds, excluded operations) are read by the ratio rules.
    used = {n for r in rules for n in _metric_names(r["expr"])}
    assert {"sotay:slo_latency_threshold:le", "sotay:slo_latency_excluded:operation"} <= used


def test_every_service_has_a_latency_threshold_on_a_histogram_bucket(
    rules: list[dict[str, Any]],
) -> None:
    thresholds = {
        r["labels"]["service"]: r["labels"]["le"]
        for r in rules
        if r.get("record") == "sotay:slo_latency_threshold:le"
    }
    assert set(thresholds) == {s.name for s in SERVICES}
    # prometheus_client writes bucket bounds as Go floats ("0.5", "2.5"); the threshold must
    # be one of them or the rule reads nothing.
    bounds = {repr(b) for b in HTTP_DURATION._upper_bounds}  # the buckets the histogram has
    assert set(thresholds.values()) <= bounds


def test_operations_left_out_of_the_latency_objective_exist(rules: list[dict[str, Any]]) -> None:
    operations: set[tuple[str, str]] = set()
    for service in SERVICES:
        app = importlib.import_module(f"{service.package}.app").create_app()
        for path, ops in app.openapi()["paths"].items():
            operations |= {(method.upper(), path) for method in ops}
    excluded = [
        (r["labels"]["method"], r["labels"]["route"])
        for r in rules
        if r.get("record") == "sotay:slo_latency_excluded:operation"
    ]
    assert excluded, "the live stream at least is not interactive"
    for operation in excluded:
        assert operation in operations, operation
    assert ("GET", "/api/v1/inbox/stream") in excluded


def _burn_pairs(expr: str, slo: str) -> set[tuple[str, str, float]]:
    """(long, short, factor) of each `long > f × budget and short > f × budget` clause."""
    pattern = (
        rf"sotay:slo_{slo}_errors:ratio_rate(\w+) > \(([\d.]+) \* ([\d.]+)\)\s*and\s*"
        rf"sotay:slo_{slo}_errors:ratio_rate(\w+) > \(([\d.]+) \* ([\d.]+)\)"
    )
    pairs = set()
    for long_w, f1, b1, short_w, f2, b2 in re.findall(pattern, expr):
        assert f1 == f2 and float(b1) == float(b2) == BUDGETS[slo], expr
        pairs.add((long_w, short_w, float(f1)))
    return pairs


def test_alerts_are_multi_window_multi_burn_rate(rules: list[dict[str, Any]]) -> None:
    alerts = {r["alert"]: r for r in rules if "alert" in r}
    recorded = {r["record"] for r in rules if "record" in r}
    for slo in BUDGETS:
        title = slo.capitalize()
        fast, slow = alerts[f"{title}BudgetBurnFast"], alerts[f"{title}BudgetBurnSlow"]
        assert _burn_pairs(fast["expr"], slo) == FAST
        assert _burn_pairs(slow["expr"], slo) == SLOW
        assert fast["labels"] == {"severity": "critical", "slo": slo}
        assert slow["labels"] == {"severity": "warning", "slo": slo}
        for alert in (fast, slow):
            assert "{{ $labels.service }}" in alert["annotations"]["summary"]
        windows = {w for long_w, short_w, _ in FAST | SLOW for w in (long_w, short_w)}
        assert {f"sotay:slo_{slo}_errors:ratio_rate{w}" for w in windows} <= recorded


def test_prometheus_loads_the_slo_rules() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert "/etc/prometheus/slo.yml" in config["rule_files"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/slo.yml:/etc/prometheus/slo.yml:ro" in mounts
