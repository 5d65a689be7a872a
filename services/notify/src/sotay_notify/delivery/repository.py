"""SQL of dispatch (planning each channel's deliveries after a fan-out) and of the durable
delivery queue (leased with ``FOR UPDATE SKIP LOCKED``, retried with backoff)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sotay_kit.db import Connection


async def claim_job(conn: Connection) -> Any:
    return await conn.fetchrow(
        "SELECT id, cause_type, cause_id, kind, after_member FROM dispatch_jobs "
        # a job not started yet first: a cell's job is done in its first chunk, so it never
        # waits for a large job's remaining chunks
        "WHERE done_at IS NULL ORDER BY after_member IS NOT NULL, id LIMIT 1 "
        "FOR UPDATE SKIP LOCKED"
    )


async def job_chunk(conn: Connection, job: Any, limit: int) -> list[Any]:
    return await conn.fetch(
        "SELECT id, member_id FROM notifications WHERE cause_type = $1 AND cause_id = $2 "
        "AND kind = $3 AND ($4::uuid IS NULL OR member_id > $4) ORDER BY member_id LIMIT $5",
        job["cause_type"],
        job["cause_id"],
        job["kind"],
        job["after_member"],
        limit,
    )


_PLAN = """
WITH chunk AS (
    SELECT n.id, n.member_id FROM notifications n
    WHERE n.cause_type = $1 AND n.cause_id = $2 AND n.kind = $3
      AND ($4::uuid IS NULL OR n.member_id > $4) AND n.member_id <= $5
)
INSERT INTO deliveries (notification_id, member_id, channel, subscription_id, next_attempt_at,
                        created_at, cause_id)
SELECT c.id, c.member_id, 'webpush', s.id, $6::timestamptz, $6::timestamptz, $2::uuid
FROM chunk c JOIN push_subscriptions s ON s.member_id = c.member_id
LEFT JOIN preferences p ON p.member_id = c.member_id
WHERE $7 AND coalesce(p.webpush, true)
UNION ALL
SELECT c.id, c.member_id, 'email', NULL::uuid, $6, $6, $2
FROM chunk c JOIN preferences p ON p.member_id = c.member_id
WHERE $8 AND p.email AND p.email_address IS NOT NULL
UNION ALL
SELECT c.id, c.member_id, 'sms', NULL::uuid, $6, $6, $2
FROM chunk c JOIN preferences p ON p.member_id = c.member_id
WHERE $9 AND p.sms AND p.phone IS NOT NULL
ON CONFLICT DO NOTHING
"""


async def plan_deliveries(
    conn: Connection,
    job: Any,
    last_member: UUID,
    now: datetime,
    *,
    webpush: bool,
    email: bool,
    sms: bool,
) -> int:
    status = await conn.execute(
        _PLAN,
        job["cause_type"],
        job["cause_id"],
        job["kind"],
        job["after_member"],
        last_member,
        now,
        webpush,
        email,
        sms,
    )
    return int(status.rsplit(" ", 1)[-1])


async def advance_job(
    conn: Connection, job_id: int, last_member: UUID | None, done: datetime | None
) -> None:
    await conn.execute(
        "UPDATE dispatch_jobs SET after_member = coalesce($2, after_member), done_at = $3 "
        "WHERE id = $1",
        job_id,
        last_member,
        done,
    )


# deliveries is partitioned by cause_id (sotay_notify.partitioned): the due ones are found by
# the partitions' deliveries_due indexes; the lease names each by (id, cause_id), its key.
_CLAIM = """
WITH due AS (
    SELECT id, cause_id FROM deliveries
    WHERE state = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
    ORDER BY next_attempt_at, id LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE deliveries d SET lease_until = $1 + make_interval(secs => $3), lease_token = $4,
    attempts = d.attempts + 1
FROM due WHERE d.id = due.id AND d.cause_id = due.cause_id
RETURNING d.id, d.cause_id
"""

_DETAILS = """
SELECT d.id, d.channel, d.attempts, d.member_id, d.subscription_id, d.lease_token,
       n.id AS notification_id, n.seq, n.cause_type, n.cause_id, n.title, n.body, n.link,
       n.urgent, n.created_at,
       p.member_id IS NOT NULL AS has_preferences, p.webpush, p.email, p.sms, p.email_address,
       p.phone, p.quiet_start, p.quiet_end,
       s.endpoint, s.p256dh, s.auth
FROM deliveries d
JOIN notifications n ON n.id = d.notification_id AND n.cause_id = d.cause_id
LEFT JOIN preferences p ON p.member_id = d.member_id
-- the subscription only while it still belongs to the delivery's member (an endpoint
-- re-subscribed by someone else on a shared device is no longer this member's)
LEFT JOIN push_subscriptions s ON s.id = d.subscription_id AND s.member_id = d.member_id
-- the causes let the plan read only their partitions of both tables (an id is unique on its
-- own)
WHERE d.id = ANY($1::bigint[]) AND d.cause_id = ANY($2::uuid[]) AND n.cause_id = ANY($2::uuid[])
ORDER BY d.id
"""


async def claim_due(conn: Connection, now: datetime, limit: int, lease_seconds: float) -> list[Any]:
    """Lease the due deliveries (committed before sending: a crash re-sends after the lease).
    Each claim has its own ``lease_token``: an outcome is recorded only while it still holds
    the lease (see :func:`finish`, :func:`retry_at`, :func:`defer`)."""
    leased = await conn.fetch(_CLAIM, now, limit, lease_seconds, uuid4())
    if not leased:
        return []
    return await conn.fetch(_DETAILS, [r["id"] for r in leased], [r["cause_id"] for r in leased])


async def record_attempt(
    conn: Connection,
    lease: Any,
    attempt: int,
    status: str,
    error_code: str | None,
    detail: str | None,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO delivery_attempts (delivery_id, attempt, status, error_code, detail, at, "
        "cause_id) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (delivery_id, attempt, cause_id) DO UPDATE SET "
        "status = excluded.status, error_code = excluded.error_code, detail = excluded.detail, "
        "at = excluded.at",
        lease["id"],
        attempt,
        status,
        error_code,
        detail,
        now,
        lease["cause_id"],
    )


def _applied(status: str) -> bool:
    """The outcome of a leased delivery applies only while the lease is still ours (pending,
    with our token). False: the lease ran out and another worker claimed the delivery, or it
    was cancelled meanwhile; the caller then records nothing."""
    return status != "UPDATE 0"


async def finish(
    conn: Connection, lease: Any, state: str, error: str | None, now: datetime
) -> bool:
    return _applied(
        await conn.execute(
            "UPDATE deliveries SET state = $3, last_error = $4, finished_at = $5, "
            "lease_until = NULL, lease_token = NULL "
            "WHERE id = $1 AND lease_token = $2 AND state = 'pending' AND cause_id = $6",
            lease["id"],
            lease["lease_token"],
            state,
            error,
            now,
            lease["cause_id"],
        )
    )


async def retry_at(conn: Connection, lease: Any, error: str, when: datetime) -> bool:
    return _applied(
        await conn.execute(
            "UPDATE deliveries SET last_error = $3, next_attempt_at = $4, lease_until = NULL, "
            "lease_token = NULL "
            "WHERE id = $1 AND lease_token = $2 AND state = 'pending' AND cause_id = $5",
            lease["id"],
            lease["lease_token"],
            error,
            when,
            lease["cause_id"],
        )
    )


async def defer(conn: Connection, lease: Any, when: datetime) -> bool:
    """Not an attempt (quiet hours): give the attempt back and wait."""
    return _applied(
        await conn.execute(
            "UPDATE deliveries SET attempts = attempts - 1, next_attempt_at = $3, "
            "lease_until = NULL, lease_token = NULL "
            "WHERE id = $1 AND lease_token = $2 AND state = 'pending' AND cause_id = $4",
            lease["id"],
            lease["lease_token"],
            when,
            lease["cause_id"],
        )
    )


async def delete_subscription(conn: Connection, subscription_id: UUID) -> None:
    await conn.execute("DELETE FROM push_subscriptions WHERE id = $1", subscription_id)
    await conn.execute(
        "UPDATE deliveries SET state = 'cancelled', last_error = 'subscription_gone', "
        "lease_until = NULL WHERE subscription_id = $1 AND state = 'pending'",
        subscription_id,
    )


async def push_succeeded(conn: Connection, subscription_id: UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE push_subscriptions SET last_success_at = $2 WHERE id = $1", subscription_id, now
    )
