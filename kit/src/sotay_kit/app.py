"""The app factory every service uses.

A service describes itself with a :class:`ServiceSpec`; :func:`create_service_app` builds the
FastAPI app whose lifespan opens the typed :class:`Resources` (db pool, NATS, JetStream,
token verifier), runs the outbox relay and the consumers, and drains them on shutdown.
Nothing connects at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from minio import Minio
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from . import db, messaging, metrics
from .auth import TokenVerifier
from .consumer import BatchHandler, EventConsumer, Handler
from .errors import install_problem_handlers, problem_response
from .logs import configure_logging
from .messaging import ConsumerSpec
from .middleware import ObservabilityMiddleware
from .outbox import OutboxRelay
from .settings import ServiceSettings
from .tracing import setup_tracing

log = logging.getLogger("sotay.app")


@dataclass(frozen=True)
class ConsumerBinding:
    """A durable consumer and the handlers that apply its events (keyed by ce-type)."""

    spec: ConsumerSpec
    handlers: dict[str, Handler] = field(default_factory=dict)
    batch_handlers: dict[str, BatchHandler] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    version: str
    description: str
    versions_dir: Path
    routers: Sequence[APIRouter] = ()
    consumers: Sequence[ConsumerBinding] = ()


@dataclass
class Resources:
    settings: ServiceSettings
    pool: db.Pool
    nc: NATS
    js: JetStreamContext
    verifier: TokenVerifier
    # Object storage (minio SDK; its calls block: run them with asyncio.to_thread). None when
    # the service has no S3 credentials configured.
    s3: Minio | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Extra clean-ups a service registers at start-up, run first at shutdown.
    closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)


def create_service_app(
    spec: ServiceSpec,
    settings: ServiceSettings,
    *,
    on_startup: Callable[[FastAPI, Resources], Any] | None = None,
) -> FastAPI:
    configure_logging(spec.name, settings.log_level)
    setup_tracing(spec.name, settings.otlp_endpoint)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await db.create_pool(
            settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
        nc = await messaging.connect(
            settings.nats_url,
            user=settings.nats_user or None,
            password=settings.nats_password.get_secret_value() or None,
            name=spec.name,
            inbox_prefix=messaging.service_inbox_prefix(spec.name),
        )
        js = nc.jetstream()
        verifier = TokenVerifier(
            settings.jwks_url, issuer=settings.token_issuer, audience=settings.token_audience
        )
        s3 = None
        if settings.s3_access_key:
            s3 = Minio(
                settings.s3_endpoint,
                access_key=settings.s3_access_key,
                secret_key=settings.s3_secret_key.get_secret_value(),
                secure=settings.s3_secure,
                region=settings.s3_region,
            )
        resources = Resources(settings, pool, nc, js, verifier, s3)
        app.state.resources = resources
        if on_startup is not None:
            result = on_startup(app, resources)
            if asyncio.iscoroutine(result):
                await result
        stop = asyncio.Event()
        workers: list[asyncio.Task[None]] = [
            asyncio.create_task(
                _watch_dependencies(spec.name, resources, stop), name="dependency-watch"
            )
        ]
        if settings.run_outbox_relay:
            relay = OutboxRelay(spec.name, settings.database_url, js)
            workers.append(asyncio.create_task(relay.run(stop), name="outbox-relay"))
        if settings.run_consumers:
            for binding in spec.consumers:
                consumer = EventConsumer(
                    binding.spec,
                    pool=pool,
                    nc=nc,
                    js=js,
                    handlers=binding.handlers,
                    batch_handlers=binding.batch_handlers,
                )
                workers.append(
                    asyncio.create_task(consumer.run(stop), name=f"consumer {binding.spec.name}")
                )
        log.info("service started", extra={"workers": [w.get_name() for w in workers]})
        try:
            yield
        finally:
            for closer in resources.closers:
                with contextlib.suppress(Exception):
                    await closer()
            # Graceful drain: workers finish their current batch, then connections close.
            stop.set()
            if workers:
                await asyncio.wait(workers, timeout=15)
                for w in workers:
                    w.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.drain(), timeout=5)
            await verifier.aclose()
            await pool.close()
            log.info("service stopped")

    prefix = f"/api/v1/{spec.name}"
    app = FastAPI(
        title=f"Sổ tay Đảng viên — {spec.name}",
        version=spec.version,
        description=spec.description,
        lifespan=lifespan,
        openapi_url=f"{prefix}/openapi.json",
        docs_url=f"{prefix}/docs",
        redoc_url=None,
    )
    install_problem_handlers(app)
    app.add_middleware(ObservabilityMiddleware, service=spec.name)
    app.include_router(_ops_router(spec.name))
    for router in spec.routers:
        app.include_router(router)
    return app


def _ops_router(service: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> Response:
        checks = await check_dependencies(service, request.app.state.resources)
        if all(checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        return problem_response(
            503,
            detail="Chưa sẵn sàng: " + ", ".join(k for k, v in checks.items() if not v),
            extensions={"checks": checks},
        )

    @router.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


async def check_dependencies(service: str, resources: Resources) -> dict[str, bool]:
    """Postgres answers and NATS is connected; recorded in ``sotay_dependency_up``."""
    checks = {"postgres": False, "nats": resources.nc.is_connected}
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2):
            checks["postgres"] = await resources.pool.fetchval("SELECT 1") == 1
    for name, ok in checks.items():
        metrics.DEPENDENCY_UP.labels(service, name).set(1 if ok else 0)
    return checks


async def _watch_dependencies(
    service: str, resources: Resources, stop: asyncio.Event, interval: float = 15.0
) -> None:
    """Keep ``sotay_dependency_up`` current between probes, so the alerts on it fire even when
    nothing calls /readyz."""
    while not stop.is_set():
        await check_dependencies(service, resources)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


async def _request_connection(request: Request) -> AsyncIterator[db.Connection]:
    """The request's transaction: committed when the endpoint returns, rolled back if it
    raises — before the response is sent, so a client never sees success for a rollback."""
    resources: Resources = request.app.state.resources
    async with resources.pool.acquire() as conn, conn.transaction():
        yield conn


def source_address(request: Request) -> str:
    """The caller's address: the gateway's X-Forwarded-For when the request came through a
    trusted proxy (``settings.trusted_proxies``), the socket's peer otherwise."""
    peer = request.client.host if request.client else "0.0.0.0"
    resources: Resources = request.app.state.resources
    if peer in resources.settings.trusted_proxies:
        first = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        if first:
            return first[:100]
    return peer


AppResources = Annotated[Resources, Depends(get_resources)]
SourceAddress = Annotated[str, Depends(source_address)]
DbConnection = Annotated[db.Connection, Depends(_request_connection, scope="function")]
