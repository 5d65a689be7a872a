"""Wake-ups through Postgres ``LISTEN/NOTIFY``, so that every replica learns of new
notifications whichever replica (or consumer) wrote them.

A transaction that writes notifications sends ``pg_notify('notify_inbox', payload)`` — the
payload is a comma-separated list of member ids, or ``*`` for a large fan-out — delivered at
commit. Each replica keeps one listening connection; SSE streams wait on their member's
:class:`asyncio.Event`; the delivery worker waits on :attr:`Hub.work`. After a lost connection
everyone is woken (a notification may have been missed), so a stream re-reads its cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import asyncpg
from sotay_kit import db
from sotay_kit.stopping import cancelling, sleep_or_stop

log = logging.getLogger("sotay.notify.hub")

CHANNEL = "notify_inbox"
MAX_LISTED = 200  # above this many members, the payload is "*"


def payload_for(members: list[UUID] | None) -> str:
    if members is None or len(members) > MAX_LISTED:
        return "*"
    return ",".join(str(m) for m in members)


class Hub:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._waiters: dict[UUID, set[asyncio.Event]] = {}
        self.work = asyncio.Event()
        self.connected = asyncio.Event()

    @contextlib.contextmanager
    def subscribe(self, member_id: UUID) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters.setdefault(member_id, set()).add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(member_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[member_id]

    def wake_all(self) -> None:
        for waiters in self._waiters.values():
            for event in waiters:
                event.set()
        self.work.set()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        payload = str(payload)
        self.work.set()
        if payload == "*":
            self.wake_all()
            return
        for part in payload.split(","):
            try:
                member = UUID(part)
            except ValueError:
                continue
            for event in self._waiters.get(member, ()):
                event.set()

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                conn = await db.connect(self.dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("hub cannot connect", extra={"error": type(exc).__name__})
                await sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            try:
                await conn.add_listener(CHANNEL, self._on_notify)
                self.connected.set()
                self.wake_all()  # whatever was committed while we were not listening
                backoff = 0.2
                while not stop.is_set() and not conn.is_closed():
                    await sleep_or_stop(stop, 5.0)
                    if not stop.is_set():
                        await conn.execute("SELECT 1")  # notice a dead connection
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                if cancelling():
                    raise asyncio.CancelledError from exc
                log.warning("hub lost postgres", extra={"error": type(exc).__name__})
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), timeout=2)
