"""Notify's background work, one loop per replica: due reminders, dispatch of new
notifications, due deliveries. Woken by the hub (a fan-out committed) or every
``scheduler_interval_seconds``. Everything it does is claimed with ``SKIP LOCKED`` or leased,
so any number of replicas can run it. Tests do not start it: they call :meth:`Worker.tick`
with the time they choose."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sotay_kit.clock import utc_now
from sotay_kit.db import Pool

from .delivery import service as delivery
from .delivery.service import Channels
from .hub import Hub
from .reminders import service as reminders
from .settings import NotifySettings

log = logging.getLogger("sotay.notify.worker")


@dataclass
class TickReport:
    reminders: int
    dispatched: int
    attempts: int


class Worker:
    def __init__(
        self,
        pool: Pool,
        settings: NotifySettings,
        channels: Channels,
        hub: Hub | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.channels = channels
        self.hub = hub
        self.clock = clock

    async def tick(self, now: datetime | None = None) -> TickReport:
        now = now or self.clock()
        fired = await reminders.tick(self.pool, now)
        dispatched, _ = await delivery.background(self.pool, self.settings, self.channels, now)
        attempts = await delivery.deliver(self.pool, self.settings, self.channels, now)
        return TickReport(fired, dispatched, attempts)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.hub is not None:
                self.hub.work.clear()
            try:
                await self.tick()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("worker tick failed", extra={"error": type(exc).__name__})
            except Exception:
                log.exception("worker tick failed")
            waits = [asyncio.ensure_future(stop.wait())]
            if self.hub is not None:
                waits.append(asyncio.ensure_future(self.hub.work.wait()))
            await asyncio.wait(
                waits,
                timeout=self.settings.scheduler_interval_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            for w in waits:
                w.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*waits, return_exceptions=True)
