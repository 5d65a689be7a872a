"""The app factory: ops endpoints, problem+json errors, the request's transaction, metrics."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import cast

import httpx
import pytest
import pytest_asyncio
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict
from sotay_devstack.testing import Infra
from sotay_kit import outbox
from sotay_kit.app import (
    AppResources,
    ConsumerBinding,
    DbConnection,
    ReadConnection,
    Resources,
    ServiceSpec,
    SourceAddress,
    _workers,
    create_service_app,
)
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.clock import Now
from sotay_kit.errors import Conflict, NotFound
from sotay_kit.messaging import ConsumerSpec
from sotay_kit.settings import ServiceSettings
from sotay_kit.testing.databases import EMPTY_VERSIONS
from sotay_kit.testing.events import read_event
from sotay_kit.testing.tokens import AUDIENCE, ISSUER, JWKS_URL, TokenFactory

router = APIRouter(prefix="/api/v1/things")


class ThingIn(BaseModel):
    title: str = Field(min_length=1, max_length=50)
    fail_after_write: bool = False


@router.post("", status_code=201)
async def create_thing(body: ThingIn, conn: DbConnection, who: CurrentPrincipal) -> dict[str, str]:
    await conn.execute("CREATE TABLE IF NOT EXISTS things (title text PRIMARY KEY)")
    await conn.execute("INSERT INTO things VALUES ($1)", body.title)
    await outbox.enqueue(conn, read_event(member=who.member_id))
    if body.fail_after_write:
        raise Conflict("Trùng lặp — thử lại sau")
    return {"title": body.title}


@router.get("/{thing_id}")
async def get_thing(thing_id: uuid.UUID, who: CurrentPrincipal) -> dict[str, str]:
    raise NotFound(f"Không có {thing_id}")


@router.get("/count/now")
async def count_things(
    conn: ReadConnection, who: CurrentPrincipal, now: Now, source: SourceAddress, res: AppResources
) -> dict[str, object]:
    return {
        "count": await conn.fetchval("SELECT count(*) FROM things"),
        "in_transaction": conn.is_in_transaction(),
    }


@router.get("/crash/now")
async def crash() -> None:
    raise RuntimeError("bug with secret data 0912345678")


SPEC = ServiceSpec(
    name="documents",
    version="test",
    description="kit test app",
    versions_dir=EMPTY_VERSIONS,
    routers=[router],
)


@pytest_asyncio.fixture
async def app_client(
    kit_dsn: str, infra: Infra, nats_operator: object
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI, TokenFactory]]:
    settings = ServiceSettings(
        environment="test",
        database_url=kit_dsn,
        nats_url=infra.nats.url,
        nats_user="documents",
        nats_password=infra.nats_passwords["documents"],
        jwks_url=JWKS_URL,
        token_issuer=ISSUER,
        token_audience=AUDIENCE,
        run_outbox_relay=False,
    )
    app = create_service_app(SPEC, settings)
    tokens = TokenFactory()
    async with app.router.lifespan_context(app):
        app.state.resources.verifier._client = httpx.AsyncClient(transport=tokens.transport())
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield client, app, tokens


async def test_health_ready_metrics_and_openapi(app_client: tuple) -> None:  # type: ignore[type-arg]
    client, _, _ = app_client
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": True, "nats": True}
    spec = (await client.get("/api/v1/documents/openapi.json")).json()
    assert "/api/v1/things" in spec["paths"]
    await client.get(f"/api/v1/things/{uuid.uuid4()}")
    text = (await client.get("/metrics")).text
    assert 'route="/api/v1/things/{thing_id}"' in text  # a template, not the raw path
    assert "sotay_http_request_duration_seconds_bucket" in text


async def test_problem_json_for_unknown_route_validation_and_auth(app_client: tuple) -> None:  # type: ignore[type-arg]
    client, _, tokens = app_client
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 404
    r = await client.post("/api/v1/things", json={"title": "x"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    auth = {"authorization": f"Bearer {tokens.mint()}"}
    r = await client.post("/api/v1/things", json={"title": ""}, headers=auth)
    assert r.status_code == 422
    body = r.json()
    assert body["errors"][0]["loc"] == ["body", "title"]
    assert body["errors"][0]["message"] == "Chuỗi quá ngắn"
    r = await client.post(
        "/api/v1/things", content=b"{not json", headers={**auth, "content-type": "application/json"}
    )
    assert r.status_code == 422
    r = await client.get("/api/v1/things/not-a-uuid", headers=auth)
    assert r.status_code == 422
    assert r.json()["errors"][0]["message"] == "Mã định danh (UUID) không hợp lệ"


async def test_unexpected_error_is_a_bare_500_without_details(app_client: tuple) -> None:  # type: ignore[type-arg]
    client, _, _ = app_client
    r = await client.get("/api/v1/things/crash/now")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert "0912345678" not in r.text
    assert r.headers["x-request-id"]


async def test_request_owns_the_transaction(app_client: tuple) -> None:  # type: ignore[type-arg]
    client, app, tokens = app_client
    auth = {"authorization": f"Bearer {tokens.mint()}", "x-request-id": "req-123"}
    ok = await client.post("/api/v1/things", json={"title": "Nghị quyết"}, headers=auth)
    assert ok.status_code == 201
    assert ok.headers["x-request-id"] == "req-123"
    failed = await client.post(
        "/api/v1/things", json={"title": "Chỉ thị", "fail_after_write": True}, headers=auth
    )
    assert failed.status_code == 409
    assert failed.json()["detail"] == "Trùng lặp — thử lại sau"
    pool = app.state.resources.pool
    assert await pool.fetch("SELECT title FROM things") == [("Nghị quyết",)]
    # The event of the failed request was rolled back with its state change.
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1
    carried = await pool.fetchval("SELECT headers->>'traceparent' FROM outbox")
    assert carried and carried.startswith("00-")


def test_production_settings_refuse_development_defaults() -> None:
    with pytest.raises(ValueError, match="refusing to start in production"):
        ServiceSettings(environment="production")
    ServiceSettings(
        environment="production",
        database_url="postgresql://svc:strong@db.internal:5432/identity",
        nats_password="a-long-random-password",
        s3_secret_key="another-long-random-secret",
        jwks_url="https://gateway.example/api/v1/auth/jwks",
    )


async def test_value_the_database_refuses_is_a_422_and_changes_nothing(app_client: tuple) -> None:  # type: ignore[type-arg]
    client, app, tokens = app_client
    auth = {"authorization": f"Bearer {tokens.mint()}"}
    r = await client.post("/api/v1/things", json={"title": "a\u0000b"}, headers=auth)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    pool = app.state.resources.pool
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_one_server_span_per_request(app_client: tuple) -> None:  # type: ignore[type-arg]
    """One telemetry layer wraps a request (kit's middleware, with the request id), not two."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    client, _, tokens = app_client
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    try:
        auth = {"authorization": f"Bearer {tokens.mint()}", "x-request-id": "one-layer"}
        r = await client.get(f"/api/v1/things/{uuid.uuid4()}", headers=auth)
        assert r.status_code == 404
    finally:
        processor.shutdown()
    servers = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    assert [s.name for s in servers] == ["GET /api/v1/things/{thing_id}"]
    assert servers[0].attributes is not None
    assert servers[0].attributes["sotay.request_id"] == "one-layer"


@pytest.mark.parametrize(
    ("peer", "trusted", "seen"),
    [
        # The gateway's pods come and go inside a network: any of its addresses is believed.
        ("10.42.7.19", '["10.42.0.0/16"]', "203.0.113.5"),
        ("fd00:42::7", '["fd00:42::/64"]', "203.0.113.5"),
        # An exact address still works, written as before.
        ("172.28.0.10", '["172.28.0.10"]', "203.0.113.5"),
        # Anyone else is taken at their own address, whatever header they send.
        ("10.43.0.1", '["10.42.0.0/16"]', "10.43.0.1"),
        ("198.51.100.1", '["127.0.0.1", "::1"]', "198.51.100.1"),
    ],
)
async def test_source_address_believes_forwarded_for_only_from_trusted_networks(
    monkeypatch: pytest.MonkeyPatch, peer: str, trusted: str, seen: str
) -> None:
    monkeypatch.setenv("SOURCE_TEST_TRUSTED_PROXIES", trusted)

    class Settings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="SOURCE_TEST_")

    app = FastAPI()
    app.state.resources = SimpleNamespace(settings=Settings())

    @app.get("/source")
    async def source(address: SourceAddress) -> str:
        return address

    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        r = await client.get("/source", headers={"X-Forwarded-For": "203.0.113.5, 10.42.0.1"})
    assert r.json() == seen


def test_trusted_proxies_refuse_what_is_not_an_address_or_network() -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        ServiceSettings(trusted_proxies=("gateway.internal",))


def test_every_consumer_binding_gets_its_worker() -> None:
    """A service's durables carry the service's name on each stream: one worker each, not one
    for the last stream only (the others' events would never be applied)."""
    bindings = tuple(
        ConsumerBinding(ConsumerSpec(name="things", stream=stream))
        for stream in ("IDENTITY", "MEETINGS", "DOCUMENTS")
    )
    spec = ServiceSpec(
        name="things", version="1", description="", versions_dir=EMPTY_VERSIONS, consumers=bindings
    )
    state = cast(
        Resources,
        SimpleNamespace(
            settings=SimpleNamespace(
                run_outbox_relay=False, run_consumers=True, run_partition_maintenance=False
            ),
            pool=None,
            nc=None,
            js=None,
        ),
    )
    consumers = [name for name in _workers(spec, state) if name.startswith("consumer ")]
    assert sorted(consumers) == [
        "consumer DOCUMENTS/things",
        "consumer IDENTITY/things",
        "consumer MEETINGS/things",
    ]


async def test_a_read_route_reads_without_a_transaction_or_a_worker_thread(
    app_client: tuple,  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ReadConnection: no BEGIN/COMMIT; kit's dependencies (principal, clock, source address,
    resources) run on the event loop, not in FastAPI's thread pool."""
    from starlette.concurrency import run_in_threadpool

    client, app, tokens = app_client
    auth = {"authorization": f"Bearer {tokens.mint()}"}
    assert (
        await client.post("/api/v1/things", json={"title": "Hiến pháp"}, headers=auth)
    ).is_success
    threaded: list[object] = []

    async def counting(func: object, *args: object, **kwargs: object) -> object:
        threaded.append(func)
        return await run_in_threadpool(func, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("fastapi.dependencies.utils.run_in_threadpool", counting)
    r = await client.get("/api/v1/things/count/now", headers=auth)
    assert r.status_code == 200
    assert r.json() == {"count": 1, "in_transaction": False}
    assert threaded == []
    pool = app.state.resources.pool
    assert pool.get_size() - pool.get_idle_size() == 0  # the connection went back to the pool
