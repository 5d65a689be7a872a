"""Nothing a client sends produces a 500 (DESIGN.md §7.6).

Every operation in every service's OpenAPI document is called with malformed path parameters,
query values and bodies, as an anonymous caller and as a caller holding every role at the
root; every answer must be a 4xx (or a success), never a server error.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sotay_contracts.tokens import ROLES
from sotay_devstack.testing import Infra, S3Info
from sotay_kit.testing.databases import DatabaseFactory
from sotay_kit.testing.tokens import TokenFactory
from sotay_kit.topology import SERVICES, ServiceInfo

PATH_VALUES = [str(uuid4()), "x", "0", "9" * 40, "%27%22%3B", "..%2F..%2Fetc"]
QUERY_VALUES = ["x", "-1", "9" * 30, "", "2026-13-45", "a\x00b", "9" * 12]
BODIES: list[tuple[bytes, str]] = [
    (b"{}", "application/json"),
    (b"[]", "application/json"),
    (b"null", "application/json"),
    (b'{"a": ', "application/json"),
    (b"[" * 2000 + b"]" * 2000, "application/json"),
    ('{"title": "\ud800"}'.encode("utf-8", "surrogatepass"), "application/json"),
    (b"\xff\xfe garbage", "text/csv"),
    (b"--x\r\nContent-Disposition: form-data; name=file\r\n\r\nabc", "multipart/form-data"),
]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            if options:
                return _resolve(spec, options[0])
    return schema


def _hostile(spec: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """A value of the declared shape with values meant to get past validation and trouble
    the database: NUL characters, integers beyond 32 bits, far-away dates."""
    schema = _resolve(spec, schema)
    kind = schema.get("type")
    if kind == "object" and depth < 3:
        return {
            name: _hostile(spec, sub, depth + 1)
            for name, sub in schema.get("properties", {}).items()
        }
    if kind == "array" and depth < 3:
        return [_hostile(spec, schema.get("items", {}), depth + 1)]
    if kind == "integer":
        return min(schema.get("maximum", 2**40), 2**40)
    if kind == "number":
        return 1e300
    if kind == "boolean":
        return True
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "uuid":
            return str(uuid4())
        if fmt == "date-time":
            return "9999-12-31T23:59:59+14:00"
        if fmt == "date":
            return "0001-01-01"
        if "enum" in schema:
            return schema["enum"][0]
        return "a\x00b"
    return None


def _requests(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, str], Any]]:
    for template, operations in spec["paths"].items():
        for method, op in operations.items():
            params = op.get("parameters", [])
            path_params = [p["name"] for p in params if p["in"] == "path"]
            query_params = [p["name"] for p in params if p["in"] == "query"]
            for i, value in enumerate(PATH_VALUES):
                path = template
                for name in path_params:
                    path = path.replace("{" + name + "}", value)
                query = {
                    name: QUERY_VALUES[(i + j) % len(QUERY_VALUES)]
                    for j, name in enumerate(query_params)
                }
                if method in {"post", "put", "patch"}:
                    body = BODIES[i % len(BODIES)]
                    yield method, path, query, body
                    yield method, path, query, BODIES[(i + 3) % len(BODIES)]
                    declared = op.get("requestBody", {}).get("content", {})
                    if "application/json" in declared:
                        hostile = _hostile(spec, declared["application/json"].get("schema", {}))
                        yield (
                            method,
                            path,
                            query,
                            (json.dumps(hostile).encode(), "application/json"),
                        )
                else:
                    yield method, path, query, None
                if not path_params:
                    break


def _settings_env(service: ServiceInfo, infra: Infra, s3: S3Info, dsn: str) -> dict[str, str]:
    p = service.env_prefix
    return {
        f"{p}ENVIRONMENT": "test",
        f"{p}DATABASE_URL": dsn,
        f"{p}NATS_URL": infra.nats.url,
        f"{p}NATS_USER": service.nats_user,
        f"{p}NATS_PASSWORD": infra.nats_passwords[service.nats_user],
        f"{p}S3_ENDPOINT": s3.endpoint,
        f"{p}S3_ACCESS_KEY": s3.access_key,
        f"{p}S3_SECRET_KEY": s3.secret_key,
        f"{p}RUN_CONSUMERS": "false",
    }


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
async def test_malformed_requests_never_yield_a_server_error(
    service: ServiceInfo,
    infra: Infra,
    s3: S3Info,
    make_database: DatabaseFactory,
    nats_operator: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = importlib.import_module(f"{service.package}.app")
    dsn = await make_database(service.name, module.SPEC.versions_dir)
    for key, value in _settings_env(service, infra, s3, dsn).items():
        monkeypatch.setenv(key, value)
    app = module.create_app()
    factory = TokenFactory()
    async with app.router.lifespan_context(app):
        settings = app.state.resources.settings
        factory.install(app)
        everything = factory.mint(
            org_path="1",
            grants=[{"role": role, "org_path": "1"} for role in ROLES],
            issuer=settings.token_issuer,
            audience=settings.token_audience,
        )
        transport = httpx.ASGITransport(app=app, client=("203.0.113.50", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            spec = (await client.get(f"/api/v1/{service.name}/openapi.json")).json()
            failures = []
            count = 0
            for method, path, query, body in _requests(spec):
                callers: tuple[dict[str, str], ...] = (
                    {},
                    {"authorization": f"Bearer {everything}"},
                )
                if path.endswith("/stream"):
                    callers = ({},)  # an authorised event stream stays open by design
                for headers in callers:
                    kwargs: dict[str, Any] = {"params": query, "headers": dict(headers)}
                    if body is not None:
                        kwargs["content"] = body[0]
                        kwargs["headers"]["content-type"] = body[1]
                    r = await client.request(method.upper(), path, **kwargs)
                    count += 1
                    if r.status_code >= 500:
                        failures.append((method, path, query, r.status_code, r.text[:200]))
    assert count > 0
    assert failures == []
