"""SQL of the member's record: rewards and discipline."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg
from sotay_kit.db import Connection


async def insert(
    conn: Connection,
    *,
    distinction_id: UUID,
    member_id: UUID,
    kind: str,
    form: str,
    decision_number: str,
    decided_on: date,
    decided_by: UUID,
    reason: str,
    recorded_by: UUID,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO member_distinctions (id, member_id, kind, form, decision_number, "
        "decided_on, decided_by, reason, recorded_by, recorded_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        distinction_id,
        member_id,
        kind,
        form,
        decision_number,
        decided_on,
        decided_by,
        reason,
        recorded_by,
        now,
    )


async def of_member(conn: Connection, member_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT d.*, o.title AS decided_by_title FROM member_distinctions d "
        "JOIN org_units o ON o.id = d.decided_by WHERE d.member_id = $1 "
        "ORDER BY d.decided_on, d.recorded_at",
        member_id,
    )
