"""The app factory every service uses.

A service describes itself with a :class:`ServiceSpec`; :func:`create_service_app` builds the
FastAPI app whose lifespan opens the typed :class:`Resources` (db pool, NATS, JetStream,
token verifier, object storage), lets the service's own lifespan extend them into its typed
state, runs the outbox relay and the consumers, and closes everything in reverse order on
shutdown (one ``AsyncExitStack``). Nothing connects at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, Self

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from minio import Minio
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from . import db, messaging, metrics, partitions
from .auth import TokenVerifier, require_principal
from .clock import Clock, utc_now
from .consumer import BatchHandler, EventConsumer, Handler
from .errors import (
    PROBLEM_SCHEMA_REF,
    ProblemDetails,
    Unauthorized,
    Unprocessable,
    install_problem_handlers,
    problem_response,
    problem_responses,
)
from .logs import configure_logging
from .messaging import ConsumerSpec
from .middleware import ObservabilityMiddleware
from .outbox import OutboxRelay
from .partitions import PartitionedTable
from .settings import ServiceSettings
from .stopping import cancelling, sleep_or_stop
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
    # The service's own time-partitioned tables; kit's (outbox, inbox, audit log) always are.
    partitioned: Sequence[PartitionedTable] = ()


@dataclass(kw_only=True)
class Resources:
    """What every running service holds. A service with resources of its own subclasses it
    (``IdentityState(Resources)`` with a ``cipher``) and builds its state with :meth:`extend`
    in its lifespan, so each resource is a typed attribute."""

    settings: ServiceSettings
    pool: db.Pool
    nc: NATS
    js: JetStreamContext
    verifier: TokenVerifier
    # Object storage (minio SDK; its calls block: run them with asyncio.to_thread). None when
    # the service has no S3 credentials configured.
    s3: Minio | None
    # Closes what was opened while the service runs (last opened, first closed): push a
    # clean-up here for anything created after start-up (a replacement verifier's client).
    exit_stack: AsyncExitStack
    # The time background work (consumers, workers) reads; requests read ``clock.Now``.
    clock: Clock = utc_now

    @classmethod
    def extend(cls, core: Resources, **own: Any) -> Self:
        """``cls``'s state: what kit opened (``core``) plus the service's own attributes (which
        may also replace one of kit's, as identity does with its in-process verifier)."""
        shared = {f.name: getattr(core, f.name) for f in fields(Resources)}
        return cls(**{**shared, **own})


# A service's own lifespan: given kit's resources, it opens what the service needs (closing it
# when the block exits) and yields its typed state.
ServiceLifespan = Callable[[FastAPI, Resources], AbstractAsyncContextManager[Resources]]

BackgroundJob = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@asynccontextmanager
async def background(jobs: Mapping[str, BackgroundJob], *, grace: float) -> AsyncIterator[None]:
    """Run each job (``job(stop)``) as a named task while the block runs; on exit set ``stop``,
    give them ``grace`` seconds to finish their current work, then cancel what is left."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(job(stop), name=name) for name, job in jobs.items()]
    try:
        yield
    finally:
        stop.set()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
            for task in tasks:
                task.cancel()


def create_service_app(
    spec: ServiceSpec,
    settings: ServiceSettings,
    *,
    lifespan: ServiceLifespan | None = None,
) -> FastAPI:
    configure_logging(spec.name, settings.log_level)
    setup_tracing(spec.name, settings.otlp_endpoint)
    prefix = f"/api/v1/{spec.name}"
    app = FastAPI(
        title=f"Sổ tay Đảng viên — {spec.name}",
        version=spec.version,
        description=spec.description,
        lifespan=functools.partial(_lifespan, spec=spec, settings=settings, own=lifespan),
        openapi_url=f"{prefix}/openapi.json",
        docs_url=f"{prefix}/docs",
        redoc_url=None,
        # One telemetry layer: kit's middleware (trace span, request id, the Prometheus metrics
        # the alerts read, database refusals as 422). FastAPI's own would wrap every request a
        # second time.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    install_problem_handlers(app)
    app.add_middleware(ObservabilityMiddleware, service=spec.name)
    app.include_router(_ops_router(spec.name))
    for router in spec.routers:
        _document_problems(router)
        app.include_router(router)
    _register_problem_schema(app)
    return app


def _document_problems(router: APIRouter) -> None:
    """Every operation documents the problems kit answers for it, as problem+json: 422 where it
    takes input (in place of FastAPI's ``HTTPValidationError``, which kit never sends), 401 where
    it needs a signed-in principal, 500 everywhere. A route's own ``responses=`` win."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        problems: list[type[Unprocessable] | type[Unauthorized] | int] = [500]
        if get_flat_params(route.dependant) or route.body_field is not None:
            problems.append(Unprocessable)
        if require_principal in _dependency_calls(route.dependant):
            problems.append(Unauthorized)
        route.responses = {**problem_responses(*problems), **route.responses}


def _register_problem_schema(app: FastAPI) -> None:
    """The problem responses refer to ``ProblemDetails``, which no route returns: add its schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        if "ProblemDetails" not in schemas:
            schema = ProblemDetails.model_json_schema(
                ref_template=PROBLEM_SCHEMA_REF.replace("ProblemDetails", "{model}")
            )
            schemas.update(schema.pop("$defs", {}))
            schemas["ProblemDetails"] = schema
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _dependency_calls(dependant: Dependant) -> set[Any]:
    calls = {dependant.call}
    for sub in dependant.dependencies:
        calls |= _dependency_calls(sub)
    return calls


@asynccontextmanager
async def _lifespan(
    app: FastAPI, *, spec: ServiceSpec, settings: ServiceSettings, own: ServiceLifespan | None
) -> AsyncIterator[None]:
    async with AsyncExitStack() as stack:
        core = await _open_resources(spec.name, settings, stack)
        state = core if own is None else await stack.enter_async_context(own(app, core))
        app.state.resources = state
        jobs = _workers(spec, state)
        # Graceful drain on exit: workers finish their current batch, then what the service
        # opened closes, then kit's connections.
        await stack.enter_async_context(background(jobs, grace=15))
        log.info("service started", extra={"workers": list(jobs)})
        yield
    metrics.worker_exited(os.getpid())
    log.info("service stopped")


async def _open_resources(
    service: str, settings: ServiceSettings, stack: AsyncExitStack
) -> Resources:
    pool = await db.create_pool(
        settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
    )
    stack.push_async_callback(pool.close)
    nc = await messaging.connect(
        settings.nats_url,
        user=settings.nats_user or None,
        password=settings.nats_password.get_secret_value() or None,
        name=service,
        inbox_prefix=messaging.service_inbox_prefix(service),
    )
    stack.push_async_callback(_drain, nc)
    verifier = TokenVerifier(
        settings.jwks_url, issuer=settings.token_issuer, audience=settings.token_audience
    )
    stack.push_async_callback(verifier.aclose)
    s3 = None
    if settings.s3_access_key:
        s3 = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
    return Resources(
        settings=settings,
        pool=pool,
        nc=nc,
        js=nc.jetstream(),
        verifier=verifier,
        s3=s3,
        exit_stack=stack,
    )


async def _drain(nc: NATS) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(nc.drain(), timeout=5)


def _workers(spec: ServiceSpec, state: Resources) -> dict[str, BackgroundJob]:
    """The dependency watch, the outbox relay and the consumers, as the settings ask."""
    settings = state.settings
    jobs: dict[str, BackgroundJob] = {
        "dependency-watch": functools.partial(_watch_dependencies, spec.name, state)
    }
    if settings.run_outbox_relay:
        jobs["outbox-relay"] = OutboxRelay(spec.name, settings.database_url, state.js).run
    if settings.run_partition_maintenance:
        tables = (*partitions.KIT_TABLES, *spec.partitioned)
        jobs["partition-maintenance"] = functools.partial(_maintain_partitions, state, tables)
    if settings.run_consumers:
        for binding in spec.consumers:
            consumer = EventConsumer(
                binding.spec,
                pool=state.pool,
                nc=state.nc,
                js=state.js,
                handlers=binding.handlers,
                batch_handlers=binding.batch_handlers,
            )
            # A service's durables share its name across streams: the stream tells them apart.
            jobs[f"consumer {binding.spec.stream}/{binding.spec.name}"] = consumer.run
    return jobs


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
        return Response(metrics.latest(), media_type=CONTENT_TYPE_LATEST)

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
    service: str, resources: Resources, stop: asyncio.Event, *, interval: float = 15.0
) -> None:
    """Keep ``sotay_dependency_up`` current between probes, so the alerts on it fire even when
    nothing calls /readyz."""
    while not stop.is_set():
        await check_dependencies(service, resources)
        await sleep_or_stop(stop, interval)


async def _maintain_partitions(
    state: Resources, tables: Sequence[PartitionedTable], stop: asyncio.Event
) -> None:
    """Partitions ahead and retention (sotay_kit.partitions) at start, then periodically; every
    replica runs it, the tables' advisory locks let one at a time do the work."""
    settings = state.settings
    while not stop.is_set():
        try:
            async with state.pool.acquire() as conn:
                report = await partitions.maintain(
                    conn,
                    tables,
                    # The wall clock, not ``state.clock``: ids carry the wall-clock month, and a
                    # test's clock set years ahead must not expire this month's partitions.
                    today=utc_now().date(),
                    ahead=settings.partition_months_ahead,
                    retention=settings.partition_retention_months,
                )
            if changes := list(report):
                log.info("partitions maintained", extra={"changes": changes})
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if cancelling():
                raise asyncio.CancelledError from exc
            # A busy table (lock_timeout) or a lost connection: the next run catches up.
            log.warning("partition maintenance failed", extra={"error": type(exc).__name__})
        await sleep_or_stop(stop, settings.partition_check_seconds)


# The dependencies below are ``async def`` though they never await: FastAPI runs a plain
# ``def`` dependency in a worker thread, a thread hop per dependency per request (profiled:
# docs/performance.md) for what is an attribute read.


async def get_resources(request: Request) -> Resources:
    """The running service's state. A service's ``deps.py`` aliases it with its own state
    type: ``State = Annotated[IdentityState, Depends(get_resources)]``."""
    resources: Resources = request.app.state.resources
    return resources


async def get_settings(request: Request) -> ServiceSettings:
    """The running service's settings; ``deps.py`` aliases it with the service's settings
    type (``Settings = Annotated[IdentitySettings, Depends(get_settings)]``), so tests
    override this one function."""
    resources: Resources = request.app.state.resources
    return resources.settings


async def _request_connection(request: Request) -> AsyncIterator[db.Connection]:
    """The request's transaction: committed when the endpoint returns, rolled back if it
    raises — before the response is sent, so a client never sees success for a rollback."""
    resources: Resources = request.app.state.resources
    async with resources.pool.acquire() as conn, conn.transaction():
        yield conn


async def _read_connection(request: Request) -> AsyncIterator[db.Connection]:
    """A pooled connection WITHOUT a transaction, for routes that only read: each statement
    commits on its own, which saves the BEGIN and COMMIT round trips. At Postgres's READ
    COMMITTED each statement sees its own snapshot inside a transaction too, so reads lose no
    consistency; the rule for when to use it is in docs/CONVENTIONS.md."""
    resources: Resources = request.app.state.resources
    async with resources.pool.acquire() as conn:
        yield conn


async def source_address(request: Request) -> str:
    """The caller's address: the gateway's X-Forwarded-For when the request came through a
    trusted proxy (``settings.trusted_proxies``, addresses or networks), the socket's peer
    otherwise."""
    peer = request.client.host if request.client else "0.0.0.0"
    resources: Resources = request.app.state.resources
    if resources.settings.is_trusted_proxy(peer):
        first = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        if first:
            return first[:100]
    return peer


AppResources = Annotated[Resources, Depends(get_resources)]
SourceAddress = Annotated[str, Depends(source_address)]
DbConnection = Annotated[db.Connection, Depends(_request_connection, scope="function")]
ReadConnection = Annotated[db.Connection, Depends(_read_connection, scope="function")]
