"""Dispatch and delivery.

- :func:`dispatch` walks each new cause's notifications in member order, a chunk per
  transaction: reports the in-app deliveries (``notify.notification.delivered_batch.v1``,
  one event per batch of members) and plans push / email / SMS deliveries for members who
  have those channels.
- :func:`fan_out_step` writes a large audience's notifications (a fan-out job the DOCUMENTS
  consumer left) a chunk per transaction, reporting and planning each chunk the same way;
  :func:`background` interleaves both, so a small job never waits for a large one.
- :func:`deliver` leases due deliveries, sends them with bounded concurrency over reused
  connections, and records each attempt with its outcome event in one transaction:
  delivered; transient failure → retry with backoff (``Retry-After`` honoured); permanent
  failure or retries exhausted → failed for good; push 404/410 → subscription removed.
  Quiet hours hold back non-urgent push and SMS until they end (not counted as an attempt).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

from sotay_contracts.envelope import Event
from sotay_contracts.events.notify import (
    MAX_BATCH_MEMBERS,
    Channel,
    DeliveryError,
    NotificationBatchDelivered,
    NotificationCause,
    NotificationDelivered,
    NotificationFailed,
)
from sotay_kit import outbox
from sotay_kit.clock import LOCAL_TZ
from sotay_kit.db import Pool

from .. import metrics, texts
from ..events import repository as events_repo
from ..settings import NotifySettings
from . import repository as repo
from .channels import Email, Result, Sms, Subscription, WebPush

log = logging.getLogger("sotay.notify.delivery")


@dataclass
class Channels:
    webpush: WebPush | None = None
    email: Email | None = None
    sms: Sms | None = None
    push_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(32))


def _inapp_events(
    settings: NotifySettings,
    cause_type: str,
    cause_id: UUID,
    notification_ids: Sequence[UUID],
    member_ids: Sequence[UUID],
    now: datetime,
    *,
    broadcast: bool = False,
) -> list[Event]:
    """The in-app deliveries of one cause to these members, as bus events: one
    ``delivered_batch.v1`` per at most 2,000 members — none for a ``broadcast`` (a fan-out
    job, reported once by ``broadcast_delivered.v1`` when it was queued) — plus one
    ``delivered.v1`` each when ``inapp_per_member_events`` is on, for a consumer still on v1."""
    if not settings.emit_inapp_events or not member_ids:
        return []
    cause = NotificationCause(cause_type)
    step = MAX_BATCH_MEMBERS
    events: list[Event] = []
    if not broadcast:
        events += [
            NotificationBatchDelivered(
                cause_type=cause,
                cause_id=cause_id,
                channel=Channel.INAPP,
                member_ids=list(member_ids[i : i + step]),
                occurred_at=now,
            )
            for i in range(0, len(member_ids), step)
        ]
    if settings.inapp_per_member_events:
        events += [
            NotificationDelivered(
                notification_id=n,
                member_id=m,
                channel=Channel.INAPP,
                cause_type=cause,
                cause_id=cause_id,
                attempt=1,
                occurred_at=now,
            )
            for n, m in zip(notification_ids, member_ids, strict=True)
        ]
    return events


async def _plan(conn: Any, channels: Channels, job: Any, last: UUID, now: datetime) -> None:
    await repo.plan_deliveries(
        conn,
        job,
        last,
        now,
        webpush=channels.webpush is not None,
        email=channels.email is not None,
        sms=channels.sms is not None,
    )


async def dispatch_step(
    pool: Pool, settings: NotifySettings, channels: Channels, now: datetime
) -> int | None:
    """One chunk of one open dispatch job, in one transaction: its in-app deliveries
    reported, its other channels planned. Returns the notifications walked, None when no
    job is open."""
    async with pool.acquire() as conn, conn.transaction():
        job = await repo.claim_job(conn)
        if job is None:
            return None
        rows = await repo.job_chunk(conn, job, settings.dispatch_chunk)
        done = now if len(rows) < settings.dispatch_chunk else None
        if not rows:
            await repo.advance_job(conn, job["id"], None, now)
            return 0
        last = rows[-1]["member_id"]
        await _plan(conn, channels, job, last, now)
        await outbox.enqueue(
            conn,
            *_inapp_events(
                settings,
                job["cause_type"],
                job["cause_id"],
                [r["id"] for r in rows],
                [r["member_id"] for r in rows],
                now,
            ),
        )
        await repo.advance_job(conn, job["id"], last, done)
        return len(rows)


async def dispatch(pool: Pool, settings: NotifySettings, channels: Channels, now: datetime) -> int:
    """Work through the open dispatch jobs. Returns the number of notifications walked."""
    walked = 0
    while (n := await dispatch_step(pool, settings, channels, now)) is not None:
        walked += n
    return walked


async def fan_out_step(
    pool: Pool, settings: NotifySettings, channels: Channels, now: datetime
) -> int | None:
    """One chunk of one open fan-out job (a large audience), in one transaction: the
    notifications of the next ``dispatch_chunk`` members written, their in-app deliveries
    reported and their other channels planned. Returns the members walked, None when no job
    is open."""
    async with pool.acquire() as conn, conn.transaction():
        job = await events_repo.claim_fanout_job(conn)
        if job is None:
            return None
        chunk = await events_repo.fan_out_chunk(conn, job, settings.dispatch_chunk, now)
        written = list(chunk["written"])
        last = chunk["last"]
        if last is not None:
            await _plan(conn, channels, job, last, now)
        await outbox.enqueue(
            conn,
            *_inapp_events(
                settings,
                job["cause_type"],
                job["cause_id"],
                list(chunk["ids"]),
                written,
                now,
                broadcast=True,
            ),
        )
        done = now if chunk["seen"] < settings.dispatch_chunk else None
        await events_repo.advance_fanout_job(conn, job["id"], last, len(written), done)
        metrics.NOTIFICATIONS_CREATED.labels(job["cause_type"]).inc(len(written))
        if done is not None:
            log.info(
                "fan-out done",
                extra={
                    "cause_id": str(job["cause_id"]),
                    "notifications": job["written"] + len(written),
                },
            )
        return int(chunk["seen"])


async def background(
    pool: Pool, settings: NotifySettings, channels: Channels, now: datetime
) -> tuple[int, int]:
    """Dispatch and fan-out jobs, a chunk of each in turn until none is open: a small job
    (a cell, a meeting) arriving during a province's fan-out waits for one chunk, not for the
    whole fan-out. Returns (notifications dispatched, members fanned out)."""
    dispatched = fanned = 0
    while True:
        d = await dispatch_step(pool, settings, channels, now)
        f = await fan_out_step(pool, settings, channels, now)
        if d is None and f is None:
            return dispatched, fanned
        dispatched += d or 0
        fanned += f or 0


# -- quiet hours ---------------------------------------------------------------------------


def quiet_until(now: datetime, start: time | None, end: time | None) -> datetime | None:
    """When the quiet period around ``now`` ends (Asia/Ho_Chi_Minh), or None outside it."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(LOCAL_TZ)
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_today = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if end_today <= local:
        end_today += timedelta(days=1)
    return end_today


def _quiet_hours(row: Any, settings: NotifySettings) -> tuple[time | None, time | None]:
    if row["has_preferences"]:
        return row["quiet_start"], row["quiet_end"]
    return settings.default_quiet_start, settings.default_quiet_end


def _enabled(row: Any) -> bool:
    channel = row["channel"]
    if channel == "webpush":
        return row["endpoint"] is not None and (not row["has_preferences"] or row["webpush"])
    if channel == "email":
        return bool(row["email"]) and row["email_address"] is not None
    return bool(row["sms"]) and row["phone"] is not None


# -- sending -------------------------------------------------------------------------------


def _absolute(settings: NotifySettings, link: str) -> str:
    return settings.public_base_url.rstrip("/") + link


async def _send(row: Any, settings: NotifySettings, channels: Channels) -> Result:
    channel = row["channel"]
    if channel == "webpush":
        if channels.webpush is None:
            return Result(False, DeliveryError.PROVIDER_ERROR, True, "webpush not configured")
        payload = {
            "id": str(row["notification_id"]),
            "seq": row["seq"],
            "title": row["title"],
            "body": row["body"],
            "link": row["link"],
            "urgent": row["urgent"],
            "cause_type": row["cause_type"],
            "created_at": row["created_at"].isoformat(),
        }
        sub = Subscription(row["endpoint"], row["p256dh"], row["auth"])
        async with channels.push_slots:
            return await channels.webpush.send(sub, payload, urgent=row["urgent"])
    if channel == "email":
        if channels.email is None:
            return Result(False, DeliveryError.PROVIDER_ERROR, True, "email not configured")
        text = (
            f"{row['body']}\n\nXem chi tiết: {_absolute(settings, row['link'])}\n\n"
            "— Sổ tay Đảng viên điện tử. Bạn nhận thư này vì đã bật thông báo qua email; "
            "có thể tắt trong mục Cài đặt thông báo của ứng dụng.\n"
        )
        return await channels.email.send(row["email_address"], row["title"], text)
    if channels.sms is None:
        return Result(False, DeliveryError.PROVIDER_ERROR, True, "sms not configured")
    text = texts.plain(f"{row['title']}. {row['body']} {_absolute(settings, row['link'])}")
    return await channels.sms.send(row["phone"], text[:306], reference=str(row["id"]))


@dataclass
class _Outcome:
    row: Any
    result: Result | None = None  # None: held back by quiet hours
    until: datetime | None = None


def lease_seconds(settings: NotifySettings) -> float:
    """How long a claimed batch is leased: at least ``delivery_lease_seconds``, and long enough
    for the slowest channel to work through a whole batch in waves of its concurrency, each
    send taking up to twice its timeout (connect and answer), plus a margin. A worker that
    still overruns it records nothing (the lease token no longer matches)."""
    batch = settings.delivery_batch
    waves = [
        math.ceil(batch / settings.push_concurrency) * settings.push_timeout_seconds,
        math.ceil(batch / settings.email_concurrency) * settings.smtp_timeout_seconds,
        # SMS shares the HTTP client's pool (push_concurrency + 8 connections).
        math.ceil(batch / (settings.push_concurrency + 8)) * settings.sms_timeout_seconds,
    ]
    return max(settings.delivery_lease_seconds, 2 * max(waves) + 30.0)


async def deliver(pool: Pool, settings: NotifySettings, channels: Channels, now: datetime) -> int:
    """Send every delivery due at ``now``. Returns the number of attempts made."""
    attempts = 0
    lease = lease_seconds(settings)
    for _ in range(1000):  # bounded: a tick never runs forever
        async with pool.acquire() as conn, conn.transaction():
            rows = await repo.claim_due(conn, now, settings.delivery_batch, lease)
        if not rows:
            break
        outcomes = await asyncio.gather(*(_attempt(r, settings, channels, now) for r in rows))
        async with pool.acquire() as conn, conn.transaction():
            for outcome in outcomes:
                await _record(conn, outcome, settings, now)
        attempts += sum(1 for o in outcomes if o.result is not None)
        if len(rows) < settings.delivery_batch:
            break
    return attempts


async def _attempt(
    row: Any, settings: NotifySettings, channels: Channels, now: datetime
) -> _Outcome:
    if not _enabled(row):
        reason = (
            DeliveryError.NO_SUBSCRIPTION
            if row["channel"] == "webpush"
            else DeliveryError.OPTED_OUT
        )
        return _Outcome(row, Result(False, reason, True, "channel off"))
    if row["channel"] in ("webpush", "sms") and not row["urgent"]:
        until = quiet_until(now, *_quiet_hours(row, settings))
        if until is not None:
            return _Outcome(row, None, until)
    try:
        return _Outcome(row, await _send(row, settings, channels))
    except Exception as exc:  # a bug in a sender must not lose the lease bookkeeping
        log.exception("sender failed", extra={"channel": row["channel"]})
        return _Outcome(row, Result(False, DeliveryError.PROVIDER_ERROR, False, type(exc).__name__))


def _lost(row: Any) -> None:
    """The lease ran out (another worker owns the delivery now) or it was cancelled meanwhile:
    this worker's outcome is not recorded."""
    metrics.DELIVERIES.labels(row["channel"], "lease_lost").inc()
    log.warning("delivery lease lost", extra={"delivery_id": row["id"], "channel": row["channel"]})


async def _record(conn: Any, outcome: _Outcome, settings: NotifySettings, now: datetime) -> None:
    row, result = outcome.row, outcome.result
    if result is None:
        assert outcome.until is not None
        if await repo.defer(conn, row, outcome.until):
            metrics.DELIVERIES.labels(row["channel"], "deferred").inc()
        else:
            _lost(row)
        return
    attempt = row["attempts"]
    channel = Channel(row["channel"])
    common = {
        "notification_id": row["notification_id"],
        "member_id": row["member_id"],
        "channel": channel,
        "cause_type": NotificationCause(row["cause_type"]),
        "cause_id": row["cause_id"],
        "attempt": attempt,
        "occurred_at": now,
    }
    if result.ok:
        if not await repo.finish(conn, row, "delivered", None, now):
            _lost(row)
            return
        await repo.record_attempt(conn, row, attempt, "delivered", None, None, now)
        if row["subscription_id"] is not None:
            await repo.push_succeeded(conn, row["subscription_id"], now)
        await outbox.enqueue(conn, NotificationDelivered(**common))
        metrics.DELIVERIES.labels(channel.value, "delivered").inc()
        return
    error = result.error or DeliveryError.PROVIDER_ERROR
    final = result.permanent or attempt >= settings.delivery_max_attempts
    if final:
        state = (
            "cancelled"
            if error in (DeliveryError.OPTED_OUT, DeliveryError.NO_SUBSCRIPTION)
            else "failed"
        )
        held = await repo.finish(conn, row, state, error.value, now)
    else:
        backoff = settings.delivery_backoff_seconds
        delay = backoff[min(attempt - 1, len(backoff) - 1)] if backoff else 60.0
        if result.retry_after is not None:
            delay = max(delay, min(result.retry_after, 24 * 3600))
        held = await repo.retry_at(conn, row, error.value, now + timedelta(seconds=delay))
    if not held:
        _lost(row)
        return
    await repo.record_attempt(conn, row, attempt, "failed", error.value, result.detail, now)
    if final and result.gone and row["subscription_id"] is not None:
        await repo.delete_subscription(conn, row["subscription_id"])
        metrics.SUBSCRIPTIONS_REMOVED.inc()
    await outbox.enqueue(conn, NotificationFailed(**common, error_code=error, final=final))
    metrics.DELIVERIES.labels(channel.value, "failed" if final else "retry").inc()
    log.info(
        "delivery failed",
        extra={
            "delivery_id": row["id"],
            "channel": channel.value,
            "error": error.value,
            "final": final,
        },
    )
