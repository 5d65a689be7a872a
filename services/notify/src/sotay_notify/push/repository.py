"""SQL of push subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sotay_kit.db import Connection


async def upsert(
    conn: Connection,
    subscription_id: UUID,
    member_id: UUID,
    endpoint: str,
    p256dh: str,
    auth: str,
    now: datetime,
) -> Any:
    """A browser's endpoint belongs to whoever subscribed with it last (a shared device): the
    previous owner's queued pushes to it are cancelled, in the same transaction."""
    row = await conn.fetchrow(
        "INSERT INTO push_subscriptions (id, member_id, endpoint, p256dh, auth, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (endpoint) DO UPDATE SET "
        "member_id = excluded.member_id, p256dh = excluded.p256dh, auth = excluded.auth, "
        "created_at = CASE WHEN push_subscriptions.member_id = excluded.member_id "
        "THEN push_subscriptions.created_at ELSE excluded.created_at END "
        "RETURNING id, endpoint, created_at, last_success_at",
        subscription_id,
        member_id,
        endpoint,
        p256dh,
        auth,
        now,
    )
    assert row is not None  # INSERT … ON CONFLICT DO UPDATE always returns the row
    await conn.execute(
        "UPDATE deliveries SET state = 'cancelled', last_error = 'no_subscription', "
        "lease_until = NULL, lease_token = NULL "
        "WHERE subscription_id = $1 AND member_id <> $2 AND state = 'pending'",
        row["id"],
        member_id,
    )
    return row


async def count(conn: Connection, member_id: UUID, except_endpoint: str) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM push_subscriptions WHERE member_id = $1 AND endpoint <> $2",
        member_id,
        except_endpoint,
    )
    return n


async def list_for(conn: Connection, member_id: UUID) -> list[Any]:
    return await conn.fetch(
        "SELECT id, endpoint, created_at, last_success_at FROM push_subscriptions "
        "WHERE member_id = $1 ORDER BY created_at",
        member_id,
    )


async def delete(conn: Connection, member_id: UUID, subscription_id: UUID) -> bool:
    status = await conn.execute(
        "DELETE FROM push_subscriptions WHERE id = $1 AND member_id = $2",
        subscription_id,
        member_id,
    )
    if status == "DELETE 0":
        return False
    await conn.execute(
        "UPDATE deliveries SET state = 'cancelled', last_error = 'no_subscription', "
        "lease_until = NULL WHERE subscription_id = $1 AND state = 'pending'",
        subscription_id,
    )
    return True
