"""SQL of motions (biểu quyết): the motion, its tallies per option, who voted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
from sotay_kit.db import Connection

_MOTION = (
    "SELECT m.*, "
    "(SELECT array_agg(t.votes ORDER BY t.option_index) FROM motion_tallies t "
    " WHERE t.motion_id = m.id) AS votes, "
    "(SELECT array_agg(t.hands ORDER BY t.option_index) FROM motion_tallies t "
    " WHERE t.motion_id = m.id) AS hands, "
    "(SELECT count(*) FROM motion_voters v WHERE v.motion_id = m.id) AS voters "
    "FROM motions m"
)


async def insert(
    conn: Connection,
    motion_id: UUID,
    meeting_id: UUID,
    title: str,
    options: Sequence[str],
    secret: bool,
    opened_by: UUID,
    now: datetime,
) -> None:
    await conn.execute(
        "WITH m AS (INSERT INTO motions (id, meeting_id, number, title, options, secret, status, "
        "opened_by, opened_at) SELECT $1, $2, coalesce(max(number), 0) + 1, $3, $4, $5, 'open', "
        "$6, $7 FROM motions WHERE meeting_id = $2 RETURNING id) "
        "INSERT INTO motion_tallies (motion_id, option_index) "
        "SELECT m.id, i FROM m, generate_series(0, cardinality($4::text[]) - 1) AS i",
        motion_id,
        meeting_id,
        title,
        list(options),
        secret,
        opened_by,
        now,
    )


async def of_meeting(conn: Connection, meeting_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(f"{_MOTION} WHERE m.meeting_id = $1 ORDER BY m.number", meeting_id)


async def get(
    conn: Connection, meeting_id: UUID, motion_id: UUID, *, lock: bool = False
) -> asyncpg.Record | None:
    """The motion; ``lock`` takes it ``FOR UPDATE`` (closing, the chair's counts) so votes
    wait and then see it closed."""
    if lock:
        await conn.execute(
            "SELECT 1 FROM motions WHERE id = $1 AND meeting_id = $2 FOR UPDATE",
            motion_id,
            meeting_id,
        )
    return await conn.fetchrow(
        f"{_MOTION} WHERE m.id = $1 AND m.meeting_id = $2",
        motion_id,
        meeting_id,
    )


async def lock_for_vote(
    conn: Connection, meeting_id: UUID, motion_id: UUID
) -> asyncpg.Record | None:
    """The motion's status, locked ``FOR SHARE``: votes run side by side, closing waits."""
    return await conn.fetchrow(
        "SELECT status, secret, cardinality(options) AS n FROM motions "
        "WHERE id = $1 AND meeting_id = $2 FOR SHARE",
        motion_id,
        meeting_id,
    )


async def vote(
    conn: Connection, motion_id: UUID, member_id: UUID, choice: int, secret: bool
) -> bool:
    """Record one member's vote: False when they had voted already. Every tally row of the
    motion is updated (the chosen one by one, the others by zero), so for a secret ballot no
    row version tells which option this transaction counted."""
    voted = await conn.fetchval(
        "INSERT INTO motion_voters (motion_id, secret, member_id, choice) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
        motion_id,
        secret,
        member_id,
        None if secret else choice,
    )
    if not voted:
        return False
    await conn.execute(
        "UPDATE motion_tallies SET votes = votes + (option_index = $2)::int WHERE motion_id = $1",
        motion_id,
        choice,
    )
    return True


async def my_choice(conn: Connection, motion_id: UUID, member_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT choice FROM motion_voters WHERE motion_id = $1 AND member_id = $2",
        motion_id,
        member_id,
    )


async def my_votes(conn: Connection, meeting_id: UUID, member_id: UUID) -> dict[UUID, int | None]:
    rows = await conn.fetch(
        "SELECT v.motion_id, v.choice FROM motion_voters v JOIN motions m ON m.id = v.motion_id "
        "WHERE m.meeting_id = $1 AND v.member_id = $2",
        meeting_id,
        member_id,
    )
    return {r["motion_id"]: r["choice"] for r in rows}


async def set_hands(conn: Connection, motion_id: UUID, counts: Sequence[int]) -> None:
    await conn.execute(
        "UPDATE motion_tallies t SET hands = c.n FROM unnest($2::int[]) WITH ORDINALITY "
        "AS c(n, i) WHERE t.motion_id = $1 AND t.option_index = c.i - 1",
        motion_id,
        list(counts),
    )


async def close(
    conn: Connection, motion_id: UUID, closed_by: UUID, present: int, now: datetime
) -> None:
    await conn.execute(
        "UPDATE motions SET status = 'closed', closed_by = $2, closed_at = $3, present = $4 "
        "WHERE id = $1",
        motion_id,
        closed_by,
        now,
        present,
    )


async def present_members(conn: Connection, meeting_id: UUID) -> int:
    """Members (not guests) of the roster checked in or marked present, late included."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM meeting_invitees WHERE meeting_id = $1 AND standing = 'member' "
        "AND attendance IN ('present', 'late')",
        meeting_id,
    )
    return count
