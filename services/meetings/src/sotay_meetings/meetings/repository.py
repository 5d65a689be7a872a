"""Every SQL statement of meetings (asyncpg, no ORM), and the reads of the identity projection
this domain needs beyond kit's helpers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sotay_contracts import Event
from sotay_kit import outbox
from sotay_kit.db import Connection
from sotay_kit.projections.identity import in_subtree

_COUNTS = """
    (SELECT count(*) FILTER (WHERE i.standing <> 'guest')           AS invited,
            count(*) FILTER (WHERE i.standing = 'exempt')             AS exempt,
            count(*) FILTER (WHERE i.standing = 'guest')              AS guests,
            count(*) FILTER (WHERE i.rsvp = 'attending')              AS replied_attending,
            count(*) FILTER (WHERE i.rsvp = 'absent')                 AS replied_absent,
            count(*) FILTER (WHERE coalesce(i.final_status, i.attendance)
                             IN ('present', 'late'))                  AS attended
       FROM meeting_invitees i WHERE i.meeting_id = m.id) AS c ON true
"""

_MEETING_COLUMNS = (
    "m.id, m.org_id, m.org_path, m.kind, m.title, m.starts_at, m.ends_at, m.location, "
    "m.agenda, m.document_ids, m.chair_id, m.minute_taker_id, m.status, m.series_id, "
    "m.series_index, m.revision, m.quorum_required, m.quorum_met, m.tallies"
)


# ── projection ─────────────────────────────────────────────────────────────────────────────


async def org(conn: Connection, org_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT org_id, path, kind, status FROM idp_orgs WHERE org_id = $1", org_id
    )


async def committee_roster(conn: Connection, org_path: str) -> list[asyncpg.Record]:
    """Members on the roll holding ``committee_member`` on exactly this org (its cấp ủy)."""
    return await conn.fetch(
        "SELECT DISTINCT m.member_id, m.status FROM idp_grants g "
        "JOIN idp_members m ON m.member_id = g.member_id "
        "WHERE g.active AND g.role = 'committee_member' AND g.org_path = $1 "
        "AND m.status = ANY('{active,exempt}'::text[]) ORDER BY m.member_id",
        org_path,
    )


async def members_on_roll(conn: Connection, member_ids: Sequence[UUID]) -> set[UUID]:
    rows = await conn.fetch(
        "SELECT member_id FROM idp_members WHERE member_id = ANY($1::uuid[]) "
        "AND status = ANY('{active,exempt}'::text[])",
        list(member_ids),
    )
    return {r["member_id"] for r in rows}


# ── meetings ───────────────────────────────────────────────────────────────────────────────


async def insert_series(
    conn: Connection, series_id: UUID, org_id: UUID, org_path: str, rule: str, by: UUID
) -> None:
    await conn.execute(
        "INSERT INTO meeting_series (id, org_id, org_path, rrule, created_by) "
        "VALUES ($1, $2, $3, $4, $5)",
        series_id,
        org_id,
        org_path,
        rule,
        by,
    )


async def insert_meeting(conn: Connection, row: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO meetings (id, org_id, org_path, kind, title, starts_at, ends_at, location, "
        "agenda, document_ids, chair_id, minute_taker_id, series_id, series_index, "
        "checkin_secret, created_by, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)",
        row["id"],
        row["org_id"],
        row["org_path"],
        row["kind"],
        row["title"],
        row["starts_at"],
        row["ends_at"],
        row["location"],
        row["agenda"],
        row["document_ids"],
        row["chair_id"],
        row["minute_taker_id"],
        row["series_id"],
        row["series_index"],
        row["checkin_secret"],
        row["created_by"],
        row["created_at"],
    )


async def insert_invitees(
    conn: Connection, meeting_id: UUID, invitees: Sequence[tuple[UUID, str]]
) -> None:
    await conn.execute(
        "INSERT INTO meeting_invitees (meeting_id, member_id, standing) "
        "SELECT $1, * FROM unnest($2::uuid[], $3::text[]) ON CONFLICT DO NOTHING",
        meeting_id,
        [m for m, _ in invitees],
        [s for _, s in invitees],
    )


async def get_meeting(conn: Connection, meeting_id: UUID) -> asyncpg.Record | None:
    """The meeting with its counts (for answers)."""
    return await conn.fetchrow(
        f"SELECT {_MEETING_COLUMNS}, c.* FROM meetings m "  # noqa: S608 - fixed fragments
        f"LEFT JOIN LATERAL {_COUNTS} WHERE m.id = $1",
        meeting_id,
    )


async def state_tag(conn: Connection, meeting_id: UUID) -> asyncpg.Record | None:
    """What the meeting's answer shows, digested in one query (the ETag of ``GET …/{id}``): the
    meeting's plan, status and tallies, and every roster row with its label and directory name
    (whole rows as text, so a column added later moves the tag too). The check-in secret stays
    out. With the columns the access check needs."""
    return await conn.fetchrow(
        "SELECT m.org_path, m.chair_id, m.minute_taker_id, md5(concat_ws('|', m.revision, "
        "m.status, m.updated_at, m.tallies::text, m.quorum_required, m.quorum_met, "
        "(SELECT string_agg(i::text || coalesce(l.label, '') || coalesce(n::text, ''), ';' "
        "         ORDER BY i.member_id) "
        "   FROM meeting_invitees i "
        "   LEFT JOIN meeting_roster_labels l "
        "     ON l.meeting_id = i.meeting_id AND l.member_id = i.member_id "
        "   LEFT JOIN idp_member_names n ON n.member_id = i.member_id "
        "  WHERE i.meeting_id = m.id))) AS digest "
        "FROM meetings m WHERE m.id = $1",
        meeting_id,
    )


async def meeting_for_action(
    conn: Connection, meeting_id: UUID, *, exclusive: bool = False
) -> asyncpg.Record | None:
    """The meeting, locked for the rest of the transaction: ``FOR KEY SHARE`` for replies,
    check-ins and marks (they run side by side), ``FOR UPDATE`` for changes of the meeting
    itself (closing waits for them and they see a closed meeting after it)."""
    lock = "UPDATE" if exclusive else "KEY SHARE"
    return await conn.fetchrow(
        f"SELECT {_MEETING_COLUMNS}, m.checkin_secret "  # noqa: S608 - fixed fragments
        f"FROM meetings m WHERE m.id = $1 FOR {lock}",
        meeting_id,
    )


_INVITEE_COLUMNS = (
    "standing",
    "rsvp",
    "rsvp_reason",
    "rsvp_note",
    "rsvp_at",
    "checked_in_at",
    "attendance",
)


async def meeting_and_invitee(
    conn: Connection, meeting_id: UUID, member_id: UUID, *, exclusive: bool = False
) -> tuple[asyncpg.Record | None, dict[str, Any] | None]:
    """:func:`meeting_for_action` and ``member_id``'s roster row in one round trip."""
    lock = "UPDATE" if exclusive else "KEY SHARE"
    mine = ", ".join(f"i.{c} AS i_{c}" for c in _INVITEE_COLUMNS)
    row = await conn.fetchrow(
        f"SELECT {_MEETING_COLUMNS}, m.checkin_secret, i.member_id AS i_member_id, "  # noqa: S608
        f"{mine} FROM meetings m LEFT JOIN meeting_invitees i ON i.meeting_id = m.id "
        f"AND i.member_id = $2 WHERE m.id = $1 FOR {lock} OF m",
        meeting_id,
        member_id,
    )
    if row is None:
        return None, None
    if row["i_member_id"] is None:
        return row, None
    return row, {c: row["i_" + c] for c in _INVITEE_COLUMNS}


async def invitee(conn: Connection, meeting_id: UUID, member_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM meeting_invitees WHERE meeting_id = $1 AND member_id = $2",
        meeting_id,
        member_id,
    )


async def invitees(conn: Connection, meeting_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT i.*, l.label, n.full_name, n.card_number FROM meeting_invitees i "
        "LEFT JOIN meeting_roster_labels l "
        "ON l.meeting_id = i.meeting_id AND l.member_id = i.member_id "
        "LEFT JOIN idp_member_names n ON n.member_id = i.member_id "
        "WHERE i.meeting_id = $1 "
        "ORDER BY i.standing, coalesce(n.full_name, l.label) NULLS LAST, i.member_id",
        meeting_id,
    )


# The columns of a meeting's plan a secretary may change after scheduling (the API's patch
# fields have the same names).
EDITABLE_COLUMNS = (
    "kind",
    "title",
    "starts_at",
    "ends_at",
    "location",
    "agenda",
    "document_ids",
    "chair_id",
    "minute_taker_id",
)


async def update_plan(conn: Connection, meeting_id: UUID, changes: dict[str, Any]) -> int:
    """Apply column changes and bump the revision; returns the new revision."""
    assert set(changes) <= set(EDITABLE_COLUMNS)
    sets = [f"{col} = ${i}" for i, col in enumerate(changes, start=2)]
    sets += ["revision = revision + 1", "updated_at = now()"]
    revision: int = await conn.fetchval(
        f"UPDATE meetings SET {', '.join(sets)} WHERE id = $1 "  # noqa: S608 - fixed columns
        "RETURNING revision",
        meeting_id,
        *changes.values(),
    )
    return revision


async def bump_revision(conn: Connection, meeting_id: UUID) -> int:
    revision: int = await conn.fetchval(
        "UPDATE meetings SET revision = revision + 1, updated_at = now() WHERE id = $1 "
        "RETURNING revision",
        meeting_id,
    )
    return revision


async def replace_guests(conn: Connection, meeting_id: UUID, guests: Sequence[UUID]) -> None:
    await conn.execute(
        "DELETE FROM meeting_invitees WHERE meeting_id = $1 AND standing = 'guest' "
        "AND NOT (member_id = ANY($2::uuid[]))",
        meeting_id,
        list(guests),
    )
    await insert_invitees(conn, meeting_id, [(g, "guest") for g in guests])


async def refresh_members(
    conn: Connection, meeting_id: UUID, roster: Sequence[tuple[UUID, str]]
) -> None:
    """Re-snapshot the members (not the guests): those who left go, newcomers come, those who
    stay keep their replies; a standing change (active ↔ exempt) is applied."""
    ids = [m for m, _ in roster]
    await conn.execute(
        "DELETE FROM meeting_invitees WHERE meeting_id = $1 AND standing <> 'guest' "
        "AND NOT (member_id = ANY($2::uuid[]))",
        meeting_id,
        ids,
    )
    await conn.execute(
        "INSERT INTO meeting_invitees (meeting_id, member_id, standing) "
        "SELECT $1, * FROM unnest($2::uuid[], $3::text[]) "
        "ON CONFLICT (meeting_id, member_id) DO UPDATE SET standing = excluded.standing",
        meeting_id,
        ids,
        [s for _, s in roster],
    )


async def invitee_ids(conn: Connection, meeting_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT member_id FROM meeting_invitees WHERE meeting_id = $1 ORDER BY member_id",
        meeting_id,
    )
    return [r["member_id"] for r in rows]


async def cancel(
    conn: Connection, meeting_id: UUID, reason: str, note: str | None, by: UUID, at: datetime
) -> int:
    revision: int = await conn.fetchval(
        "UPDATE meetings SET status = 'cancelled', cancel_reason = $2, cancel_note = $3, "
        "cancelled_by = $4, cancelled_at = $5, revision = revision + 1, updated_at = $5 "
        "WHERE id = $1 RETURNING revision",
        meeting_id,
        reason,
        note,
        by,
        at,
    )
    return revision


async def record_rsvp(
    conn: Connection,
    meeting_id: UUID,
    member_id: UUID,
    response: str,
    reason: str | None,
    note: str | None,
    at: datetime,
) -> None:
    await conn.execute(
        "UPDATE meeting_invitees SET rsvp = $3, rsvp_reason = $4, rsvp_note = $5, rsvp_at = $6 "
        "WHERE meeting_id = $1 AND member_id = $2",
        meeting_id,
        member_id,
        response,
        reason,
        note,
        at,
    )


# The meeting evening's hottest write: it names the meeting, so it touches one partition.
CHECK_IN = (
    "UPDATE meeting_invitees SET checked_in_at = $4, attendance = $3, "
    "attendance_method = 'code', attendance_reason = NULL, attendance_by = $2, "
    "attendance_at = $4 WHERE meeting_id = $1 AND member_id = $2 AND checked_in_at IS NULL "
    "RETURNING 1"
)


async def record_checkin(
    conn: Connection, meeting_id: UUID, member_id: UUID, status: str, at: datetime, event: Event
) -> bool:
    """Record a check-in once, with its event, in one round trip: False (and no event) when
    the member had already checked in."""
    return await outbox.enqueue_after(conn, CHECK_IN, (meeting_id, member_id, status, at), event)


async def record_mark(
    conn: Connection,
    meeting_id: UUID,
    member_id: UUID,
    status: str,
    reason: str | None,
    by: UUID,
    at: datetime,
) -> None:
    await conn.execute(
        "UPDATE meeting_invitees SET attendance = $3, attendance_method = 'marked', "
        "attendance_reason = $4, attendance_by = $5, attendance_at = $6 "
        "WHERE meeting_id = $1 AND member_id = $2",
        meeting_id,
        member_id,
        status,
        reason,
        by,
        at,
    )


async def close(
    conn: Connection,
    meeting_id: UUID,
    finals: Sequence[tuple[UUID, str]],
    *,
    by: UUID,
    at: datetime,
    quorum_required: float,
    quorum_met: bool,
    tallies: dict[str, int],
) -> int:
    await conn.execute(
        "UPDATE meeting_invitees i SET final_status = f.status "
        "FROM unnest($2::uuid[], $3::text[]) AS f(member_id, status) "
        "WHERE i.meeting_id = $1 AND i.member_id = f.member_id",
        meeting_id,
        [m for m, _ in finals],
        [s for _, s in finals],
    )
    revision: int = await conn.fetchval(
        "UPDATE meetings SET status = 'closed', closed_by = $2, closed_at = $3, "
        "quorum_required = $4, quorum_met = $5, tallies = $6, revision = revision + 1, "
        "updated_at = $3 WHERE id = $1 RETURNING revision",
        meeting_id,
        by,
        at,
        quorum_required,
        quorum_met,
        tallies,
    )
    return revision


async def upsert_labels(
    conn: Connection, meeting_id: UUID, labels: dict[UUID, str], by: UUID
) -> int:
    result = await conn.execute(
        "INSERT INTO meeting_roster_labels (meeting_id, member_id, label, updated_by) "
        "SELECT $1, l.member_id, l.label, $4 FROM unnest($2::uuid[], $3::text[]) "
        "AS l(member_id, label) JOIN meeting_invitees i ON i.meeting_id = $1 "
        "AND i.member_id = l.member_id "
        "ON CONFLICT (meeting_id, member_id) DO UPDATE SET label = excluded.label, "
        "updated_by = excluded.updated_by, updated_at = now()",
        meeting_id,
        list(labels),
        list(labels.values()),
        by,
    )
    return int(result.rsplit(" ", 1)[-1])


# ── lists ──────────────────────────────────────────────────────────────────────────────────


async def mine(
    conn: Connection,
    member_id: UUID,
    *,
    upcoming: bool,
    now: datetime,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    if upcoming:
        where, order, cmp = "m.ends_at > $2", "m.starts_at, m.id", ">"
    else:
        where, order, cmp = "m.ends_at <= $2", "m.starts_at DESC, m.id DESC", "<"
    params: list[Any] = [member_id, now, limit]
    if after is not None:
        where += f" AND (m.starts_at, m.id) {cmp} ($4, $5)"
        params += list(after)
    return await conn.fetch(
        f"SELECT {_MEETING_COLUMNS}, c.*, "  # noqa: S608 - fixed fragments
        "me.standing AS me_standing, me.rsvp AS me_rsvp, me.rsvp_reason AS me_rsvp_reason, "
        "me.rsvp_note AS me_rsvp_note, me.checked_in_at AS me_checked_in_at, "
        "me.attendance AS me_attendance, me.final_status AS me_final_status "
        "FROM meeting_invitees me JOIN meetings m ON m.id = me.meeting_id "
        f"LEFT JOIN LATERAL {_COUNTS} "
        f"WHERE me.member_id = $1 AND {where} ORDER BY {order} LIMIT $3",
        *params,
    )


async def by_org(
    conn: Connection,
    org_path: str,
    start: datetime,
    end: datetime,
    *,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    where = f"{in_subtree('m.org_path', '$1')} AND m.starts_at >= $2 AND m.starts_at < $3"
    params: list[Any] = [org_path, start, end, limit]
    if after is not None:
        where += " AND (m.starts_at, m.id) > ($5, $6)"
        params += list(after)
    return await conn.fetch(
        f"SELECT {_MEETING_COLUMNS}, c.* FROM meetings m "  # noqa: S608 - fixed fragments
        f"LEFT JOIN LATERAL {_COUNTS} WHERE {where} ORDER BY m.starts_at, m.id LIMIT $4",
        *params,
    )


async def document_names(conn: Connection, document_ids: list[UUID]) -> dict[UUID, asyncpg.Record]:
    """Number and title of documents (from documents' directory), by id; unknown ids absent."""
    rows = await conn.fetch(
        "SELECT document_id, number, title FROM document_names WHERE document_id = ANY($1)",
        document_ids,
    )
    return {r["document_id"]: r for r in rows}
