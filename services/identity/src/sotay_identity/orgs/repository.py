"""SQL of the org tree. Subtree = ``path = $p OR path LIKE $p || '.%'`` (keys are digits, so a
path never holds a LIKE wildcard), answered by the ``text_pattern_ops`` index."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from sotay_kit.db import Connection
from sotay_kit.text import fold

# Serialises changes to the tree's shape (create, move, close) against each other; writers of
# rows that copy an org path (memberships) take it shared, so no path is copied mid-move.
_TREE_LOCK = 0x6F72_675F_7472_6565

COLUMNS = (
    "id, key, parent_id, path, code, title, kind, status, valid_from, valid_to, successor_id, "
    "revision, created_at, updated_at"
)
MEMBER_STATUSES_ON_ROLL = ("active", "exempt")

UniqueViolation = asyncpg.UniqueViolationError


async def lock_tree(conn: Connection, *, exclusive: bool) -> None:
    if exclusive:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _TREE_LOCK)
    else:
        await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", _TREE_LOCK)


async def has_orgs(conn: Connection) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM org_units)"))


COPY_COLUMNS = ("id", "key", "parent_id", "path", "code", "title", "kind", "valid_from")


async def copy_in(conn: Connection, orgs: Iterable[tuple[Any, ...]]) -> None:
    """Bulk insert with COPY (a whole tree at once, parents first): records in the order of
    ``COPY_COLUMNS``, keys and paths chosen by the caller. The key sequence moves past them."""
    await conn.copy_records_to_table("org_units", records=orgs, columns=COPY_COLUMNS)
    await conn.execute("SELECT setval('org_key_seq', (SELECT max(key) FROM org_units))")


async def get(conn: Connection, org_id: UUID, *, lock: bool = False) -> asyncpg.Record | None:
    sql = f"SELECT {COLUMNS} FROM org_units WHERE id = $1"  # noqa: S608 - constant columns
    return await conn.fetchrow(sql + (" FOR UPDATE" if lock else ""), org_id)


async def open_by_codes(conn: Connection, codes: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {COLUMNS} FROM org_units WHERE code = ANY($1::text[]) "  # noqa: S608
        "AND status <> 'closed'",
        codes,
    )


async def children(
    conn: Connection, org_id: UUID, *, after_key: int | None, limit: int, include_closed: bool
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {COLUMNS} FROM org_units WHERE parent_id = $1 "  # noqa: S608
        "AND ($2 OR status <> 'closed') AND ($3::bigint IS NULL OR key > $3) "
        "ORDER BY key LIMIT $4",
        org_id,
        include_closed,
        after_key,
        limit,
    )


async def insert(
    conn: Connection,
    *,
    org_id: UUID,
    parent_id: UUID,
    parent_path: str,
    title: str,
    kind: str,
    code: str | None,
    valid_from: date | None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""
        WITH k AS (SELECT nextval('org_key_seq') AS key)
        INSERT INTO org_units (id, key, parent_id, path, title, kind, code, valid_from)
        SELECT $1, k.key, $2, $3 || '.' || k.key, $4, $5, $6,
               coalesce($7, (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)
        FROM k RETURNING {COLUMNS}
        """,  # noqa: S608
        org_id,
        parent_id,
        parent_path,
        title,
        kind,
        code,
        valid_from,
    )
    assert row is not None
    return row


_UPDATABLE = frozenset({"title", "code", "status", "valid_from", "valid_to"})


async def update(conn: Connection, org_id: UUID, changes: dict[str, Any]) -> asyncpg.Record:
    assert changes and set(changes) <= _UPDATABLE
    names = sorted(changes)
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    row = await conn.fetchrow(
        f"UPDATE org_units SET {sets}, revision = revision + 1, updated_at = now() "  # noqa: S608
        f"WHERE id = $1 RETURNING {COLUMNS}",
        org_id,
        *(changes[n] for n in names),
    )
    assert row is not None
    return row


async def move(
    conn: Connection, org_id: UUID, old_path: str, new_path: str, new_parent_id: UUID
) -> asyncpg.Record:
    """Re-root the subtree at ``old_path`` under ``new_path`` in one statement per table."""
    await conn.execute(
        """
        UPDATE org_units
        SET path = $2 || substr(path, length($1) + 1),
            parent_id = CASE WHEN id = $3 THEN $4 ELSE parent_id END,
            revision = CASE WHEN id = $3 THEN revision + 1 ELSE revision END,
            updated_at = now()
        WHERE path = $1 OR path LIKE $1 || '.%'
        """,
        old_path,
        new_path,
        org_id,
        new_parent_id,
    )
    # Open memberships follow their cell; closed ones keep the path they had (history).
    await conn.execute(
        """
        UPDATE memberships SET org_path = $2 || substr(org_path, length($1) + 1)
        WHERE ended_on IS NULL AND (org_path = $1 OR org_path LIKE $1 || '.%')
        """,
        old_path,
        new_path,
    )
    row = await get(conn, org_id)
    assert row is not None
    return row


async def count_members_on_roll(conn: Connection, org_id: UUID) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM members WHERE cell_id = $1 AND status = ANY($2::text[])",
            org_id,
            list(MEMBER_STATUSES_ON_ROLL),
        )
    )


async def count_open_children(conn: Connection, org_id: UUID) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM org_units WHERE parent_id = $1 AND status <> 'closed'", org_id
        )
    )


async def close(
    conn: Connection, org_id: UUID, closed_on: date, successor_id: UUID | None
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"UPDATE org_units SET status = 'closed', valid_to = $2, successor_id = $3, "  # noqa: S608
        "revision = revision + 1, updated_at = now() "
        f"WHERE id = $1 RETURNING {COLUMNS}",
        org_id,
        closed_on,
        successor_id,
    )
    assert row is not None
    return row


async def members_on_roll(
    conn: Connection,
    path: str,
    *,
    query: str | None,
    after: tuple[str, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Active and exempt members whose cell lies in the subtree at ``path``, by folded name."""
    like = None
    if query:
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return await conn.fetch(
        """
        SELECT m.id, m.card_number, m.full_name, m.search_name, m.status, m.membership,
               m.cell_id
        FROM members m JOIN org_units o ON o.id = m.cell_id
        WHERE (o.path = $1 OR o.path LIKE $1 || '.%')
          AND m.status = ANY($2::text[])
          AND ($3::text IS NULL OR m.search_name LIKE $3)
          AND ($4::text IS NULL OR (m.search_name, m.id) > ($4, $5::uuid))
        ORDER BY m.search_name, m.id
        LIMIT $6
        """,
        path,
        list(MEMBER_STATUSES_ON_ROLL),
        like,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )


async def cell_roster(
    conn: Connection, cell_id: UUID, *, after: tuple[str, UUID] | None, limit: int
) -> list[asyncpg.Record]:
    """A cell's members on its roll, by folded name, each with the roles granted on the cell
    itself. Only what fellow members know of each other: no contact or identity numbers."""
    return await conn.fetch(
        """
        SELECT m.id, m.card_number, m.full_name, m.search_name,
               ARRAY(SELECT g.role FROM role_grants g
                     WHERE g.member_id = m.id AND g.org_id = $1 AND g.revoked_at IS NULL
                     ORDER BY g.role) AS roles
        FROM members m
        WHERE m.cell_id = $1 AND m.status = ANY($2::text[])
          AND ($3::text IS NULL OR (m.search_name, m.id) > ($3, $4::uuid))
        ORDER BY m.search_name, m.id
        LIMIT $5
        """,
        cell_id,
        list(MEMBER_STATUSES_ON_ROLL),
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )


async def member_cell(conn: Connection, member_id: UUID) -> UUID | None:
    """The cell of a member still on a roll (None for one who left)."""
    cell_id: UUID | None = await conn.fetchval(
        "SELECT cell_id FROM members WHERE id = $1 AND status = ANY($2::text[])",
        member_id,
        list(MEMBER_STATUSES_ON_ROLL),
    )
    return cell_id


def _fold_table() -> tuple[str, str]:
    """``translate()`` arguments that fold a title the way :func:`sotay_kit.text.fold` does,
    one character at a time (Vietnamese letters with their marks, đ, upper case → lower-case
    ASCII), so a search needs no folded copy of the title in the table."""
    src, dst = [], []
    for cp in [*range(0x41, 0x5B), *range(0xC0, 0x250), *range(0x1EA0, 0x1F00)]:
        char = chr(cp)
        folded = fold(char)
        if len(folded) == 1 and folded.isascii() and folded != char:
            src.append(char)
            dst.append(folded)
    return "".join(src), "".join(dst)


FOLD_FROM, FOLD_TO = _fold_table()


async def search(
    conn: Connection,
    roots: list[str],
    words: list[str],
    *,
    limit: int,
    include_closed: bool,
) -> list[asyncpg.Record]:
    """Orgs inside the subtrees at ``roots`` whose folded title holds every one of ``words``
    (already folded), or whose code starts with the query; shallower first, then by title."""
    likes = [
        "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for w in words
    ]
    return await conn.fetch(
        f"""
        SELECT {COLUMNS} FROM org_units o
        WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) AS r(p)
                      WHERE o.path = r.p OR o.path LIKE r.p || '.%')
          AND ($2 OR o.status <> 'closed')
          AND ((SELECT bool_and(translate(o.title, $3, $4) LIKE w)
                FROM unnest($5::text[]) AS q(w))
               OR lower(o.code) = $6)
        ORDER BY array_length(string_to_array(o.path, '.'), 1), o.title, o.key
        LIMIT $7
        """,  # noqa: S608 - constant columns
        roots,
        include_closed,
        FOLD_FROM,
        FOLD_TO,
        likes,
        " ".join(words),
        limit,
    )


async def titles_by_paths(conn: Connection, paths: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, path, title, kind FROM org_units WHERE path = ANY($1::text[])", paths
    )
