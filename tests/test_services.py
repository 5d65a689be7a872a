"""Every service: built by its factory with its own settings, migrated database and NATS user;
serves /healthz, /readyz, /metrics and its OpenAPI under /api/v1/<service>/."""

from __future__ import annotations

import importlib

import httpx
import pytest
from sotay_devstack.testing import Infra
from sotay_kit.testing.databases import DatabaseFactory
from sotay_kit.topology import SERVICES, ServiceInfo


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
async def test_service_starts_and_reports_ready(
    service: ServiceInfo,
    infra: Infra,
    make_database: DatabaseFactory,
    nats_operator: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = importlib.import_module(f"{service.package}.app")
    dsn = await make_database(service.name, module.SPEC.versions_dir)
    p = service.env_prefix
    monkeypatch.setenv(f"{p}DATABASE_URL", dsn)
    monkeypatch.setenv(f"{p}NATS_URL", infra.nats.url)
    monkeypatch.setenv(f"{p}NATS_USER", service.nats_user)
    monkeypatch.setenv(f"{p}NATS_PASSWORD", infra.nats_passwords[service.nats_user])
    monkeypatch.setenv(f"{p}ENVIRONMENT", "test")
    app = module.create_app()  # settings from the service's own env prefix
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            openapi = await client.get(f"/api/v1/{service.name}/openapi.json")
            assert openapi.status_code == 200
            assert openapi.json()["info"]["title"].endswith(service.name)
            metrics = await client.get("/metrics")
            assert "sotay_dependency_up" in metrics.text
        # The service's migrations (and kit's outbox/inbox) are applied.
        pool = app.state.resources.pool
        tables = {
            r[0]
            for r in await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        assert {"outbox", "inbox", "alembic_version"} <= tables
