"""One way to run a service in a test: its app in-process with its lifespan entered (real
Postgres, NATS and S3), an HTTP client on it, a token factory it trusts, and — for services
whose rules depend on the time — a clock the test moves instead of sleeping.

A service's conftest subclasses :class:`Harness` with its own helpers and builds it with
:func:`run_service`::

    @dataclass(kw_only=True)
    class MeetingsApp(Harness[MeetingsSettings]):
        world: World

    async with run_service(create_app(settings), settings, base_url="http://meetings",
                     clock=TestClock(T0)) as h:
        yield MeetingsApp(**h.fields(), world=world)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import httpx
from fastapi import FastAPI
from nats.aio.client import Client as NATS
from sotay_contracts import CloudEvent, Event, new_cloud_event
from sotay_contracts.registry import parse_event

from .. import db
from ..app import ConsumerBinding, Resources
from ..clock import current_time
from ..consumer import EventConsumer
from ..messaging import ConsumerSpec
from ..settings import ServiceSettings
from .tokens import TokenFactory
from .world import World

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


@dataclass
class TestClock:
    """The service's time, frozen until the test moves it (requests and background work)."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass(kw_only=True)
class Harness(Generic[SettingsT]):
    app: FastAPI
    client: httpx.AsyncClient
    settings: SettingsT
    tokens: TokenFactory
    clock: TestClock | None = None

    @property
    def state(self) -> Resources:
        state: Resources = self.app.state.resources
        return state

    @property
    def pool(self) -> db.Pool:
        return self.state.pool

    def fields(self) -> dict[str, Any]:
        """The harness's own fields, to build a service's subclass from it."""
        return {f.name: getattr(self, f.name) for f in fields(Harness)}

    async def outbox(self) -> list[tuple[CloudEvent, Event]]:
        """Every event the service has written to its outbox, oldest first."""
        rows = await self.pool.fetch("SELECT headers, body FROM outbox ORDER BY seq")
        out = []
        for r in rows:
            ce = CloudEvent.from_nats(dict(r["headers"]), bytes(r["body"]))
            out.append((ce, parse_event(ce)))
        return out


@dataclass(kw_only=True)
class WorldHarness(Harness[SettingsT]):
    """A harness for a service that learns the org tree from events: a small party
    organisation (``world``) whose members' tokens the service trusts, and the NATS connection
    the events travel on."""

    world: World
    nc: NATS

    def token(self, name: str, **overrides: Any) -> str:
        return self.tokens.mint(**{**self.world.claims(name), **overrides})

    def auth(self, name: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token(name)}"}

    async def publish(self, *events: Event) -> list[str]:
        """Publish events to their streams (as their services would); their CloudEvent ids."""
        js = self.nc.jetstream()
        ids = []
        for e in events:
            ce = new_cloud_event(e)
            await js.publish(ce.nats_subject, ce.data, headers=ce.to_nats_headers())
            ids.append(ce.id)
        return ids

    async def catch_up(
        self, binding: ConsumerBinding, *, spec: ConsumerSpec | None = None, within: float = 30
    ) -> EventConsumer:
        """Run the binding's consumer (``spec``: another spec for it) until nothing is pending
        for it, at most ``within`` seconds; the consumer is returned (its dead letters)."""
        spec = spec or binding.spec
        js = self.nc.jetstream()
        consumer = EventConsumer(
            spec,
            pool=self.pool,
            nc=self.nc,
            js=js,
            handlers=binding.handlers,
            batch_handlers=binding.batch_handlers,
            fetch_timeout=0.2,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        deadline = time.monotonic() + within
        try:
            while True:
                info = await js.consumer_info(spec.stream, spec.name)
                if info.num_pending == 0 and info.num_ack_pending == 0:
                    break
                assert time.monotonic() < deadline, f"{spec.stream}: {spec.name} did not catch up"
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await task
        return consumer


def test_settings(
    settings_type: type[SettingsT],
    service: str,
    *,
    database_url: str,
    nats_url: str,
    nats_password: str,
    **overrides: Any,
) -> SettingsT:
    """A service's settings for a test: its own database and NATS user; no outbox relay (tests
    read the outbox, or run the relay themselves)."""
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "nats_url": nats_url,
        "nats_user": service,
        "nats_password": nats_password,
        "run_outbox_relay": False,
        **overrides,
    }
    return settings_type(**values)


test_settings.__test__ = False  # type: ignore[attr-defined]


@asynccontextmanager
async def run_service(
    app: FastAPI,
    settings: SettingsT,
    *,
    base_url: str,
    clock: TestClock | None = None,
    trust_test_tokens: bool = True,
    client_address: tuple[str, int] = ("127.0.0.1", 123),
) -> AsyncIterator[Harness[SettingsT]]:
    """Run ``app`` for the block. ``clock``: the time every request and the service's
    background work read. ``trust_test_tokens``: the service verifies tokens minted by the
    harness's factory (identity, which mints its own, says False)."""
    tokens = TokenFactory()
    if clock is not None:
        app.dependency_overrides[current_time] = clock
    async with app.router.lifespan_context(app):
        if clock is not None:
            app.state.resources.clock = clock
        if trust_test_tokens:
            tokens.install(app)
        transport = httpx.ASGITransport(app=app, client=client_address)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield Harness(app=app, client=client, settings=settings, tokens=tokens, clock=clock)
