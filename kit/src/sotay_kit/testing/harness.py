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

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import httpx
from fastapi import FastAPI

from .. import db
from ..app import Resources
from ..clock import current_time
from ..settings import ServiceSettings
from .tokens import TokenFactory

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
