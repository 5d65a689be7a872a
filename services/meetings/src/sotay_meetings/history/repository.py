"""SQL of the attendance history: the cell's members now (identity projection) and everyone on
the roster of its closed meetings since a date, with their final statuses."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
from sotay_kit.db import Connection
from sotay_kit.projections.identity import ACTIVE_STATUSES

RECENT = 6


async def closed_meetings(conn: Connection, org_id: UUID, since: datetime) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM meetings WHERE org_id = $1 AND status = 'closed' AND starts_at >= $2",
        org_id,
        since,
    )
    return count


async def history(
    conn: Connection, org_id: UUID, since: datetime, *, after: UUID | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        WITH closed AS (
            SELECT id, starts_at FROM meetings
             WHERE org_id = $1 AND status = 'closed' AND starts_at >= $2
        ), attended AS (
            SELECT i.member_id, i.final_status, c.starts_at
              FROM meeting_invitees i JOIN closed c ON c.id = i.meeting_id
             WHERE i.standing <> 'guest'
        ), people AS (
            SELECT member_id FROM idp_members WHERE cell_id = $1 AND status = ANY($3::text[])
             UNION
            SELECT member_id FROM attended
        )
        SELECT p.member_id,
               count(a.final_status)                                          AS meetings,
               count(*) FILTER (WHERE a.final_status = 'present')             AS present,
               count(*) FILTER (WHERE a.final_status = 'late')                AS late,
               count(*) FILTER (WHERE a.final_status = 'absent_excused')      AS absent_excused,
               count(*) FILTER (WHERE a.final_status = 'absent_unexcused')    AS absent_unexcused,
               count(*) FILTER (WHERE a.final_status = 'exempt')              AS exempt,
               (array_agg(a.final_status ORDER BY a.starts_at DESC)
                  FILTER (WHERE a.final_status IS NOT NULL))[1:$6]            AS recent
          FROM people p LEFT JOIN attended a USING (member_id)
         WHERE $4::uuid IS NULL OR p.member_id > $4
         GROUP BY p.member_id
         ORDER BY p.member_id
         LIMIT $5
        """,
        org_id,
        since,
        list(ACTIVE_STATUSES),
        after,
        limit,
        RECENT,
    )
