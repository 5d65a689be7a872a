"""Transactional outbox (DESIGN.md §7.1).

``enqueue`` writes the event in the caller's transaction, next to the state change it
describes. :class:`OutboxRelay` publishes unsent rows in order with ``Nats-Msg-Id`` = event id
and marks them sent only after JetStream's PubAck; a relay killed between publish and mark
republishes, and the stream's duplicate window drops the copy.

Only one relay per database publishes at a time (a session advisory lock), so the order of
the stream follows the order of commits even when a service runs several replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from nats.js import JetStreamContext
from nats.js.api import PubAck
from sotay_contracts import CloudEvent, Event, new_cloud_event

from . import db, metrics, tracing
from .db import Connection
from .schema import OUTBOX_CHANNEL
from .stopping import cancelling, sleep_or_stop

log = logging.getLogger("sotay.outbox")

_RELAY_LOCK_KEY = 0x50_74_6F_75_74_62_6F_78  # arbitrary, constant per database

_INSERT = """
INSERT INTO outbox (event_id, subject, headers, body)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::bytea[])
"""

# By event id (the partition key): the plan reads the events' months only.
MARK_SENT = "UPDATE outbox SET sent_at = clock_timestamp() WHERE event_id = ANY($1::uuid[])"


def build(event: Event, *, time: datetime | None = None) -> CloudEvent:
    traceparent, tracestate = tracing.current_traceparent()
    return new_cloud_event(event, time=time, traceparent=traceparent, tracestate=tracestate)


async def enqueue(conn: Connection, *events: Event, time: datetime | None = None) -> list[str]:
    """Add events to the outbox inside the caller's open transaction. Returns their ids."""
    if not conn.is_in_transaction():
        raise RuntimeError("outbox.enqueue must run inside the state change's transaction")
    built = [build(e, time=time) for e in events]
    await enqueue_cloud_events(conn, built)
    return [ce.id for ce in built]


async def enqueue_after(
    conn: Connection, change: str, args: Sequence[Any], *events: Event, time: datetime | None = None
) -> bool:
    """Run ``change`` — one data-modifying statement with a RETURNING clause, its parameters
    ``$1…$n`` = ``args`` — and add ``events`` to the outbox only when it returned a row: a state
    change and its events in one round trip, inside the caller's open transaction like
    :func:`enqueue`. True when the change returned a row (and the events were added)."""
    if not conn.is_in_transaction():
        raise RuntimeError("outbox.enqueue_after must run inside the state change's transaction")
    built = [build(e, time=time) for e in events]
    n = len(args)
    result = await conn.fetchval(
        f"WITH changed AS ({change}), added AS (INSERT INTO outbox "  # noqa: S608 - the caller's fixed SQL
        "(event_id, subject, headers, body) "
        f"SELECT * FROM unnest(${n + 1}::uuid[], ${n + 2}::text[], ${n + 3}::jsonb[], "
        f"${n + 4}::bytea[]) WHERE EXISTS (SELECT FROM changed)) "
        "SELECT EXISTS (SELECT FROM changed)",
        *args,
        [ce.id for ce in built],
        [ce.nats_subject for ce in built],
        [ce.to_nats_headers() for ce in built],
        [ce.data for ce in built],
    )
    return bool(result)


async def enqueue_cloud_events(conn: Connection, events: Sequence[CloudEvent]) -> None:
    if not events:
        return
    await conn.execute(
        _INSERT,
        [ce.id for ce in events],
        [ce.nats_subject for ce in events],
        [ce.to_nats_headers() for ce in events],
        [ce.data for ce in events],
    )


class OutboxRelay:
    def __init__(
        self,
        service: str,
        dsn: str,
        js: JetStreamContext,
        *,
        batch_size: int = 2000,
        poll_interval: float = 2.0,
        publish_timeout: float = 10.0,
    ) -> None:
        self.service = service
        self.dsn = dsn
        self.js = js
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.publish_timeout = publish_timeout
        self._wake = asyncio.Event()
        self._last_housekeeping = 0.0
        self.published = 0
        self.duplicates = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set. Reconnects to Postgres and NATS as needed."""
        backoff = 0.2
        while not stop.is_set():
            try:
                await self._run_as_leader(stop)
                backoff = 0.2
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                if cancelling():
                    raise asyncio.CancelledError from exc
                log.warning("outbox relay lost postgres", extra={"error": type(exc).__name__})
                await sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 5.0)

    async def _run_as_leader(self, stop: asyncio.Event) -> None:
        conn = await db.connect(self.dsn)
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK_KEY):
                if await sleep_or_stop(stop, self.poll_interval):
                    return
            await conn.add_listener(OUTBOX_CHANNEL, self._on_notify)
            self._wake.set()
            while not stop.is_set():
                sent = await self.relay_batch(conn)
                await self._housekeeping(conn)
                if sent == self.batch_size:
                    continue  # more is waiting
                if sent < 0:  # publish failed: back off, keep the rows
                    await sleep_or_stop(stop, 0.5)
                    continue
                self._wake.clear()
                waiter = asyncio.ensure_future(self._wake.wait())
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait(
                    {waiter, stopper},
                    timeout=self.poll_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waiter.cancel()
                stopper.cancel()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=2)

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    async def relay_batch(self, conn: Connection) -> int:
        """Publish one batch of unsent rows; mark the acknowledged prefix sent.

        Returns the number of rows marked sent, or -1 when publishing failed part-way.
        """
        acked: list[UUID] = []
        duplicates = 0
        failed = False
        async with conn.transaction():
            rows = await conn.fetch(
                "SELECT event_id, subject, headers, body FROM outbox WHERE sent_at IS NULL "
                "ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
                self.batch_size,
            )
            if not rows:
                return 0
            with tracing.tracer("sotay.outbox").start_as_current_span("outbox relay batch") as sp:
                sp.set_attribute("messaging.batch.message_count", len(rows))
                futures: list[asyncio.Future[PubAck]] = []
                try:
                    for row in rows:
                        futures.append(
                            await self.js.publish_async(
                                row["subject"], row["body"], headers=dict(row["headers"])
                            )
                        )
                except Exception as exc:  # connection lost mid-batch: keep what was acked
                    log.warning("outbox publish failed", extra={"error": repr(exc)[:200]})
                    failed = True
                if futures:
                    _, pending = await asyncio.wait(futures, timeout=self.publish_timeout)
                    for f in pending:
                        f.cancel()
            # Mark only the acknowledged prefix: later rows are retried in order next time
            # (JetStream drops the copies of those it already stored).
            for row, future in zip(rows, futures, strict=False):
                if future.cancelled() or future.exception() is not None:
                    failed = True
                    break
                acked.append(row["event_id"])
                duplicates += future.result().duplicate is True
            if len(futures) < len(rows):
                failed = True
            if acked:
                await conn.execute(MARK_SENT, acked)
        # Counted once the marks are committed (a failed commit republishes; dedup drops it).
        self.published += len(acked)
        self.duplicates += duplicates
        metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(acked))
        metrics.OUTBOX_DUPLICATES.labels(self.service).inc(duplicates)
        if failed:
            metrics.OUTBOX_ERRORS.labels(self.service).inc()
            return -1
        return len(acked)

    async def _housekeeping(self, conn: Connection) -> None:
        now = time.monotonic()
        if now - self._last_housekeeping < 5.0:
            return
        self._last_housekeeping = now
        row = await conn.fetchrow(
            "SELECT count(*) AS backlog, "
            "coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0) AS age "
            "FROM outbox WHERE sent_at IS NULL"
        )
        assert row is not None
        metrics.OUTBOX_BACKLOG.labels(self.service).set(row["backlog"])
        metrics.OUTBOX_OLDEST_AGE.labels(self.service).set(float(row["age"]))
        # Sent rows go with their month's partition (sotay_kit.partitions), not row by row.
