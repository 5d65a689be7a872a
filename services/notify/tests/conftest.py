"""Fixtures for notify's tests: the app on a fresh migrated database, its consumers fed real
events through NATS, tokens it trusts, a clock the tests drive, and the outside parties as
real servers on local ports — an SMTP server (aiosmtpd), a fake Web Push service and a fake
SMS provider speaking HTTP."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from nats.aio.client import Client as NATS
from sotay_contracts import CloudEvent, Event, new_cloud_event
from sotay_devstack.servers import free_port
from sotay_devstack.testing import Infra
from sotay_kit import messaging
from sotay_kit.consumer import EventConsumer
from sotay_kit.testing.databases import DatabaseFactory
from sotay_kit.testing.harness import TestClock, WorldHarness, run_service, test_settings
from sotay_kit.testing.world import World
from sotay_notify.app import create_app
from sotay_notify.deps import NotifyState
from sotay_notify.settings import NotifySettings
from sotay_notify.worker import TickReport, Worker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

NOW = datetime(2026, 11, 1, tzinfo=UTC)
T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# -- outside parties -------------------------------------------------------------------------


class _SmtpHandler:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: _SmtpHandler

    @property
    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        return self.handler.messages


@pytest.fixture
def smtp() -> Any:
    handler = _SmtpHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, handler)
    finally:
        controller.stop()


@dataclass
class FakePush:
    """A push service (RFC 8030): ``POST /push/{token}`` stores the encrypted message; the
    answer for a token can be set (e.g. 410 Gone)."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/push/{token}")
        async def push(token: str, request: Request) -> Response:
            body = await request.body()
            self.received.append({"token": token, "headers": dict(request.headers), "body": body})
            queue = self.answers.get(token)
            status = queue.pop(0) if queue else 201
            return Response(status_code=status)

        return app


@dataclass
class FakeSms:
    """An SMS provider speaking the API of docs/notify.md."""

    api_key: str
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/messages")
        async def messages(request: Request) -> Response:
            if request.headers.get("authorization") != f"Bearer {self.api_key}":
                return JSONResponse({"error": "unauthorized"}, status_code=401)
            body = await request.json()
            status = self.answers.pop(0) if self.answers else 202
            if status == 202:
                self.received.append(body)
                return JSONResponse({"id": uuid.uuid4().hex}, status_code=202)
            return JSONResponse({"error": "x"}, status_code=status)

        return app


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and not task.done(), "server did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@pytest_asyncio.fixture
async def push_service() -> AsyncIterator[FakePush]:
    fake = FakePush()
    async with serve(fake.app()) as url:
        fake.url = url
        yield fake


@pytest_asyncio.fixture
async def sms_provider() -> AsyncIterator[FakeSms]:
    fake = FakeSms(api_key=b64url(os.urandom(18)))
    async with serve(fake.app()) as url:
        fake.url = url
        yield fake


@dataclass
class Browser:
    """A browser's push subscription: its keys decrypt what the push service received."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @classmethod
    def new(cls, endpoint: str) -> Browser:
        return cls(endpoint, ec.generate_private_key(ec.SECP256R1()), os.urandom(16))

    def subscription(self) -> dict[str, Any]:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }


# -- the world and the app -------------------------------------------------------------------


def build_world() -> tuple[World, list[Event]]:
    w = World(at=NOW)
    events: list[Event] = [
        w.org("province", None, "1", "province"),
        w.org("district", "province", "1.2", "district"),
        w.org("cell_a", "district", "1.2.3", "grassroots_cell"),
        w.org("cell_b", "district", "1.2.4", "grassroots_cell"),
        w.org("district2", "province", "1.5", "district"),
        w.org("cell_c", "district2", "1.5.6", "grassroots_cell"),
    ]
    for name in ("sec", "a1", "a2"):
        events.append(w.member(name, "cell_a"))
    events.append(w.member("ex1", "cell_a", "exempt"))
    events.append(w.member("b1", "cell_b"))
    events.append(w.member("c1", "cell_c"))
    events.append(w.grant("sec", "cell_secretary", "cell_a"))
    return w, events


STREAM_OF = {"identity": "IDENTITY", "meetings": "MEETINGS", "documents": "DOCUMENTS"}


@dataclass(kw_only=True)
class NotifyApp(WorldHarness[NotifySettings]):
    clock: TestClock
    consumers: list[EventConsumer] = field(default_factory=list)

    @property
    def worker(self) -> Worker:
        state: NotifyState = self.app.state.resources
        return state.worker

    async def publish(self, *events: Event | CloudEvent, msg_id: str | None = None) -> None:
        """Publish events to their streams and apply them through notify's own consumers,
        waiting (bounded) until every consumer has caught up."""
        js = self.nc.jetstream()
        for e in events:
            ce = e if isinstance(e, CloudEvent) else new_cloud_event(e)
            headers = ce.to_nats_headers()
            if msg_id is not None:
                headers["Nats-Msg-Id"] = msg_id
            await js.publish(ce.nats_subject, ce.data, headers=headers)
        await self.drain()

    async def drain(self) -> None:
        js = self.nc.jetstream()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(c.run(stop)) for c in self.consumers]
        deadline = time.monotonic() + 30
        try:
            for c in self.consumers:
                while True:
                    info = await js.consumer_info(c.spec.stream, c.spec.name)
                    if info.num_pending == 0 and info.num_ack_pending == 0:
                        break
                    assert time.monotonic() < deadline, "consumers did not catch up"
                    await asyncio.sleep(0.02)
        finally:
            stop.set()
            await asyncio.gather(*tasks)

    async def tick(self, when: datetime | None = None) -> TickReport:
        return await self.worker.tick(when or self.clock.now)

    async def inbox(self, name: str, **params: Any) -> dict[str, Any]:
        r = await self.client.get("/api/v1/inbox", params=params, headers=self.auth(name))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


@contextlib.asynccontextmanager
async def running(infra: Infra, dsn: str, nc: NATS, **overrides: Any) -> AsyncIterator[NotifyApp]:
    settings = test_settings(
        NotifySettings,
        "notify",
        database_url=dsn,
        nats_url=infra.nats.url,
        nats_password=infra.nats_passwords["notify"],
        **{"run_consumers": False, "run_scheduler": False, **overrides},
    )
    app = create_app(settings)
    clock = TestClock(T0)
    world, events = build_world()
    async with run_service(app, settings, base_url="http://notify", clock=clock) as harness:
        svc = NotifyApp(**{**harness.fields(), "clock": clock}, world=world, nc=nc)
        svc.worker.clock = clock
        js = nc.jetstream()
        bindings = app.state.bindings
        await messaging.provision(js, [], [b.spec for b in bindings])
        svc.consumers = [
            EventConsumer(
                b.spec,
                pool=svc.pool,
                nc=nc,
                js=js,
                handlers=b.handlers,
                batch_handlers=b.batch_handlers,
                fetch_timeout=0.2,
            )
            for b in bindings
        ]
        await svc.publish(*events)
        yield svc


@pytest_asyncio.fixture
async def notify_dsn(make_database: DatabaseFactory) -> str:
    from sotay_notify.app import SPEC

    return await make_database("notify", SPEC.versions_dir)


@pytest_asyncio.fixture
async def svc(infra: Infra, notify_dsn: str, nats_operator: NATS) -> AsyncIterator[NotifyApp]:
    async with running(infra, notify_dsn, nats_operator) as service:
        yield service


def at(days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours, minutes=minutes)
