"""Idempotent event consumers (DESIGN.md §7.2–7.3).

A consumer binds by name to a durable pull consumer that provisioning created, fetches in
batches and applies each event exactly once: the event id goes into the ``inbox`` table in the
same transaction as the handler's effects, so a redelivery (after a crash between commit and
ack, or a nak) finds the id and changes nothing.

Failures:
- invalid envelope, unknown event type, data that fails its schema, or a handler that raises
  :class:`RejectEvent` → the message goes to the ``DLQ`` stream with the reason, then ``term``;
- anything else (database down, deadlock, a bug) → ``nak`` with a growing delay until
  ``max_deliver``, then the dead-letter stream. A poison message never blocks the consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import asyncpg
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from opentelemetry import trace
from sotay_contracts import CloudEvent, Event
from sotay_contracts.errors import ContractError, InvalidEnvelope, UnknownEventType
from sotay_contracts.registry import parse_event

from . import metrics, tracing
from .db import Connection, Pool
from .messaging import ConsumerSpec
from .topology import DLQ_SUBJECT_PREFIX

log = logging.getLogger("sotay.consumer")


class RejectEvent(Exception):
    """Raised by a handler for an event it can never apply (e.g. unknown org): dead-letter it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event handed to a handler."""

    event: Event
    cloud_event: CloudEvent
    stream_seq: int


Handler = Callable[[Connection, Delivery], Awaitable[None]]
# A batch handler applies many events of one type in one statement (projections at speed).
BatchHandler = Callable[[Connection, Sequence[Delivery]], Awaitable[None]]


@dataclass
class _Item:
    msg: Msg
    delivery: Delivery | None = None


class EventConsumer:
    def __init__(
        self,
        spec: ConsumerSpec,
        *,
        pool: Pool,
        nc: NATS,
        js: JetStreamContext,
        handlers: Mapping[str, Handler] | None = None,
        batch_handlers: Mapping[str, BatchHandler] | None = None,
        batch_size: int = 256,
        fetch_timeout: float = 2.0,
    ) -> None:
        self.spec = spec
        self.service = spec.service
        self.pool = pool
        self.nc = nc
        self.js = js
        self.handlers = dict(handlers or {})
        self.batch_handlers = dict(batch_handlers or {})
        self.batch_size = batch_size
        self.fetch_timeout = fetch_timeout
        self._tracer = tracing.tracer("sotay.consumer")
        self.applied = 0
        self.duplicates = 0
        self.dead_lettered = 0

    def _outcome(self, outcome: str, n: int = 1) -> None:
        metrics.CONSUMER_HANDLED.labels(self.service, self.spec.name, outcome).inc(n)

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch, decode and apply until ``stop`` is set.

        Two stages overlap: while one batch is in its database transaction, the next is fetched
        and decoded. Batches are still applied strictly one after the other, in stream order.
        """
        sub = await self.js.pull_subscribe_bind(self.spec.name, stream=self.spec.stream)
        applying: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                try:
                    msgs = await sub.fetch(self.batch_size, timeout=self.fetch_timeout)
                # nats' own TimeoutError, or asyncio's when the wait ran out at the very
                # start of the fetch: both are the builtin TimeoutError.
                except TimeoutError:
                    continue
                except Exception as exc:  # NATS reconnecting, consumer missing …
                    log.warning(
                        "fetch failed", extra={"consumer": self.spec.name, "error": repr(exc)}
                    )
                    await asyncio.sleep(1.0)
                    continue
                if not msgs:
                    continue
                valid = await self._prepare(msgs)
                if applying is not None:
                    await applying
                    applying = None
                if valid:
                    applying = asyncio.create_task(self._process(valid))
            if applying is not None:
                await applying
        finally:
            if applying is not None and not applying.done():
                applying.cancel()
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def handle_batch(self, msgs: Sequence[Msg]) -> None:
        """Apply one fetched batch (decode, dead-letter the invalid, apply the rest, ack)."""
        valid = await self._prepare(msgs)
        if valid:
            await self._process(valid)

    async def _prepare(self, msgs: Sequence[Msg]) -> list[_Item]:
        """Decode a batch; what can never be applied goes to the DLQ before any database work."""
        valid: list[_Item] = []
        for msg in msgs:
            item = _Item(msg)
            reason = self._decode(item)
            if reason is None:
                valid.append(item)
            else:
                await self._dead_letter(msg, reason)
        return valid

    async def _process(self, valid: Sequence[_Item]) -> None:
        last = valid[-1].msg.metadata
        metrics.CONSUMER_LAG.labels(self.service, self.spec.stream, self.spec.name).set(
            last.num_pending
        )
        heartbeat = asyncio.create_task(self._heartbeat([i.msg for i in valid]))
        try:
            try:
                await self._apply_together(valid)
            except RejectEvent:
                await self._apply_one_by_one(valid)
            except Exception as exc:
                if len(valid) == 1:
                    await self._retry_or_dead_letter(valid[0].msg, exc)
                else:
                    # Find the culprit: apply one by one, each in its own transaction.
                    await self._apply_one_by_one(valid)
        finally:
            heartbeat.cancel()

    def _decode(self, item: _Item) -> str | None:
        msg = item.msg
        try:
            ce = CloudEvent.from_nats(msg.headers, msg.data)
        except InvalidEnvelope as exc:
            return f"invalid_envelope: {exc.reason}"
        if ce.type not in self.handlers and ce.type not in self.batch_handlers:
            try:
                parse_event(ce)
            except UnknownEventType as exc:
                return f"unknown_type: {exc.reason}"
            except ContractError:
                pass
            # A known event this consumer has no use for.
            item.delivery = None
            return None
        try:
            event = parse_event(ce)
        except UnknownEventType as exc:
            return f"unknown_type: {exc.reason}"
        except ContractError as exc:
            return f"invalid_data: {getattr(exc, 'reason', str(exc))}"
        item.delivery = Delivery(event, ce, msg.metadata.sequence.stream)
        return None

    async def _apply_together(self, items: Sequence[_Item]) -> None:
        start = time.perf_counter()
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await self._claim(conn, [i for i in items if i.delivery is not None])
            await self._apply(conn, fresh)
        await self._ack_all(items, fresh)
        metrics.CONSUMER_DURATION.labels(self.service, self.spec.name).observe(
            (time.perf_counter() - start) / max(1, len(items))
        )

    async def _apply_one_by_one(self, items: Sequence[_Item]) -> None:
        for item in items:
            try:
                await self._apply_together([item])
            except RejectEvent as exc:
                await self._dead_letter(item.msg, f"rejected: {exc.reason}")
            except Exception as exc:
                await self._retry_or_dead_letter(item.msg, exc)

    async def _claim(self, conn: Connection, items: Sequence[_Item]) -> list[Delivery]:
        """Record the event ids; return the deliveries not applied before, in stream order."""
        if not items:
            return []
        deliveries = [i.delivery for i in items if i.delivery is not None]
        rows = await conn.fetch(
            "INSERT INTO inbox (consumer, event_id, subject, stream_seq) "
            "SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::bigint[]) "
            "ON CONFLICT DO NOTHING RETURNING event_id::text",
            self.spec.name,
            [d.cloud_event.id for d in deliveries],
            [d.cloud_event.nats_subject for d in deliveries],
            [d.stream_seq for d in deliveries],
        )
        new_ids = {r[0] for r in rows}
        fresh = []
        for d in deliveries:  # the same event twice in one batch is applied once
            event_id = d.cloud_event.id.lower()
            if event_id in new_ids:
                new_ids.discard(event_id)
                fresh.append(d)
        return fresh

    async def _apply(self, conn: Connection, deliveries: Sequence[Delivery]) -> None:
        # Consecutive events of a type with a batch handler go together; order is kept.
        i = 0
        while i < len(deliveries):
            d = deliveries[i]
            ce_type = d.cloud_event.type
            batch_handler = self.batch_handlers.get(ce_type)
            if batch_handler is not None:
                j = i
                while j < len(deliveries) and deliveries[j].cloud_event.type == ce_type:
                    j += 1
                await self._traced(conn, deliveries[i:j], batch_handler)
                i = j
                continue
            handler = self.handlers[ce_type]
            await self._traced_one(conn, d, handler)
            i += 1

    async def _traced(
        self, conn: Connection, batch: Sequence[Delivery], handler: BatchHandler
    ) -> None:
        links = []
        for d in batch[:32]:
            ctx = trace.get_current_span(
                tracing.extract({"traceparent": d.cloud_event.traceparent or ""})
            ).get_span_context()
            if ctx.is_valid:
                links.append(trace.Link(ctx))
        with self._tracer.start_as_current_span(
            f"consume {batch[0].cloud_event.nats_subject}",
            kind=trace.SpanKind.CONSUMER,
            links=links,
        ):
            await handler(conn, batch)

    async def _traced_one(self, conn: Connection, d: Delivery, handler: Handler) -> None:
        carrier = {"traceparent": d.cloud_event.traceparent or ""}
        if d.cloud_event.tracestate:
            carrier["tracestate"] = d.cloud_event.tracestate
        with self._tracer.start_as_current_span(
            f"consume {d.cloud_event.nats_subject}",
            context=tracing.extract(carrier),
            kind=trace.SpanKind.CONSUMER,
        ) as span:
            span.set_attribute("messaging.message.id", d.cloud_event.id)
            await handler(conn, d)

    async def _ack_all(self, items: Sequence[_Item], fresh: Sequence[Delivery]) -> None:
        fresh_ids = {id(d) for d in fresh}
        applied = skipped = duplicates = 0
        for item in items:
            if item.delivery is None:
                skipped += 1
            elif id(item.delivery) in fresh_ids:
                applied += 1
            else:
                duplicates += 1
            await item.msg.ack()
        self.applied += applied
        self.duplicates += duplicates
        if applied:
            self._outcome("applied", applied)
        if duplicates:
            self._outcome("duplicate", duplicates)
        if skipped:
            self._outcome("skipped", skipped)

    async def _retry_or_dead_letter(self, msg: Msg, exc: Exception) -> None:
        delivered = msg.metadata.num_delivered
        if delivered >= self.spec.max_deliver:
            await self._dead_letter(msg, f"max_deliveries: {type(exc).__name__}")
            return
        delay = self.spec.backoff[min(delivered - 1, len(self.spec.backoff) - 1)]
        level = logging.WARNING if _transient(exc) else logging.ERROR
        log.log(
            level,
            "event handling failed, will retry",
            exc_info=level == logging.ERROR,
            extra={"consumer": self.spec.name, "attempt": delivered, "delay": delay},
        )
        self._outcome("retried")
        await msg.nak(delay=delay)

    async def _dead_letter(self, msg: Msg, reason: str) -> None:
        meta = msg.metadata
        headers = {k: v for k, v in (msg.headers or {}).items() if k != "Nats-Msg-Id"}
        headers.update(
            {
                "Nats-Msg-Id": f"{self.spec.name}:{meta.stream}:{meta.sequence.stream}",
                "Sotay-Dlq-Reason": reason[:500],
                "Sotay-Dlq-Consumer": self.spec.name,
                "Sotay-Dlq-Stream": meta.stream,
                "Sotay-Dlq-Stream-Seq": str(meta.sequence.stream),
                "Sotay-Dlq-Subject": msg.subject,
            }
        )
        subject = f"{DLQ_SUBJECT_PREFIX}.{self.service}.{self.spec.name}"
        try:
            await self.js.publish(subject, msg.data, headers=headers)
        except Exception as exc:
            # The DLQ is unreachable: leave the message for redelivery rather than lose it.
            log.error("dead-letter publish failed", extra={"error": type(exc).__name__})
            await msg.nak(delay=5.0)
            return
        kind = reason.split(":", 1)[0]
        metrics.DLQ_MESSAGES.labels(self.service, self.spec.name, kind).inc()
        self._outcome("dead_lettered")
        self.dead_lettered += 1
        log.warning(
            "event dead-lettered",
            extra={"consumer": self.spec.name, "reason": kind, "stream_seq": meta.sequence.stream},
        )
        await msg.term()

    async def _heartbeat(self, msgs: Sequence[Msg]) -> None:
        """Tell JetStream a long batch is still being worked on (``in_progress``)."""
        interval = max(1.0, self.spec.ack_wait / 3)
        while True:
            await asyncio.sleep(interval)
            for m in msgs:
                with contextlib.suppress(Exception):
                    await m.in_progress()


def _transient(exc: BaseException) -> bool:
    return isinstance(
        exc,
        OSError
        | asyncio.TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.exceptions.SerializationError
        | asyncpg.exceptions.DeadlockDetectedError,
    )
