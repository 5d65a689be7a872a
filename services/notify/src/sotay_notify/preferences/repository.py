"""SQL of preferences."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from uuid import UUID

from sotay_kit.db import Connection


async def get(conn: Connection, member_id: UUID) -> Any:
    return await conn.fetchrow("SELECT * FROM preferences WHERE member_id = $1", member_id)


async def put(
    conn: Connection,
    member_id: UUID,
    *,
    webpush: bool,
    email: bool,
    sms: bool,
    email_address: str | None,
    phone: str | None,
    quiet_start: time | None,
    quiet_end: time | None,
    updated_by: UUID,
    now: datetime,
) -> Any:
    return await conn.fetchrow(
        "INSERT INTO preferences (member_id, webpush, email, sms, email_address, phone, "
        "quiet_start, quiet_end, updated_by, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        "ON CONFLICT (member_id) DO UPDATE SET webpush = excluded.webpush, "
        "email = excluded.email, sms = excluded.sms, email_address = excluded.email_address, "
        "phone = excluded.phone, quiet_start = excluded.quiet_start, "
        "quiet_end = excluded.quiet_end, updated_by = excluded.updated_by, "
        "updated_at = excluded.updated_at RETURNING *",
        member_id,
        webpush,
        email,
        sms,
        email_address,
        phone,
        quiet_start,
        quiet_end,
        updated_by,
        now,
    )


async def member_path(conn: Connection, member_id: UUID) -> str | None:
    path: str | None = await conn.fetchval(
        "SELECT org_path FROM idp_members WHERE member_id = $1", member_id
    )
    return path
