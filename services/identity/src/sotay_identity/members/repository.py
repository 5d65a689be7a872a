"""SQL of members, their membership history and their accounts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
from sotay_kit.db import Connection

UniqueViolation = asyncpg.UniqueViolationError

_SELECT = """
SELECT m.id, m.card_number, m.full_name, m.search_name, m.date_of_birth, m.sex, m.phone,
       m.email, m.admitted_on, m.official_on, m.membership, m.cell_id, m.status,
       m.citizen_id_enc, m.revision, m.created_at, m.updated_at, o.path AS org_path
FROM members m JOIN org_units o ON o.id = m.cell_id
"""

MEMBER_COLUMNS = (
    "id",
    "card_number",
    "full_name",
    "search_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "admitted_on",
    "official_on",
    "membership",
    "cell_id",
    "status",
    "citizen_id_enc",
)
MEMBERSHIP_COLUMNS = ("member_id", "cell_id", "org_path", "started_on")
ACCOUNT_COLUMNS = (
    "member_id",
    "activation_digest",
    "activation_expires_at",
    "must_change_password",
)


async def get(conn: Connection, member_id: UUID, *, lock: bool = False) -> asyncpg.Record | None:
    sql = _SELECT + " WHERE m.id = $1" + (" FOR UPDATE OF m" if lock else "")
    return await conn.fetchrow(sql, member_id)


async def existing_cards(conn: Connection, cards: Sequence[str]) -> set[str]:
    rows = await conn.fetch(
        "SELECT card_number FROM members WHERE card_number = ANY($1::text[])", list(cards)
    )
    return {r["card_number"] for r in rows}


async def existing_phones(conn: Connection, phones: Sequence[str]) -> set[str]:
    rows = await conn.fetch("SELECT phone FROM members WHERE phone = ANY($1::text[])", list(phones))
    return {r["phone"] for r in rows}


async def card_taken(conn: Connection, card: str, *, other_than: UUID | None = None) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM members WHERE card_number = $1 AND id <> $2)",
            card,
            other_than or UUID(int=0),
        )
    )


async def phone_taken(conn: Connection, phone: str, *, other_than: UUID | None = None) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM members WHERE phone = $1 AND id <> $2)",
            phone,
            other_than or UUID(int=0),
        )
    )


async def insert(
    conn: Connection,
    member: dict[str, Any],
    *,
    org_path: str,
    activation_digest: bytes,
    activation_expires_at: datetime,
) -> asyncpg.Record:
    """One member with its open membership (from today) and an account awaiting activation."""
    await conn.execute(
        f"INSERT INTO members ({', '.join(MEMBER_COLUMNS)}) "  # noqa: S608 - constant columns
        f"VALUES ({', '.join(f'${i}' for i in range(1, len(MEMBER_COLUMNS) + 1))})",
        *(member[c] for c in MEMBER_COLUMNS),
    )
    await conn.execute(
        "INSERT INTO memberships (member_id, cell_id, org_path, started_on) "
        "VALUES ($1, $2, $3, (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)",
        member["id"],
        member["cell_id"],
        org_path,
    )
    await conn.execute(
        "INSERT INTO accounts (member_id, activation_digest, activation_expires_at, "
        "must_change_password) VALUES ($1, $2, $3, true)",
        member["id"],
        activation_digest,
        activation_expires_at,
    )
    row = await get(conn, member["id"])
    assert row is not None
    return row


async def copy_in(
    conn: Connection,
    members: Iterable[tuple[Any, ...]],
    memberships: Iterable[tuple[Any, ...]],
    accounts: Iterable[tuple[Any, ...]],
) -> None:
    """Bulk insert with COPY (the import): records in the order of the *_COLUMNS tuples."""
    await conn.copy_records_to_table("members", records=members, columns=MEMBER_COLUMNS)
    await conn.copy_records_to_table("memberships", records=memberships, columns=MEMBERSHIP_COLUMNS)
    await conn.copy_records_to_table("accounts", records=accounts, columns=ACCOUNT_COLUMNS)


_UPDATABLE = frozenset(MEMBER_COLUMNS) - {"id", "cell_id"}


async def update(conn: Connection, member_id: UUID, changes: dict[str, Any]) -> asyncpg.Record:
    assert changes and set(changes) <= _UPDATABLE
    names = sorted(changes)
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(
        f"UPDATE members SET {sets}, revision = revision + 1, updated_at = now() "  # noqa: S608
        "WHERE id = $1",
        member_id,
        *(changes[n] for n in names),
    )
    row = await get(conn, member_id)
    assert row is not None
    return row


async def open_membership(conn: Connection, member_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, cell_id, org_path, started_on FROM memberships "
        "WHERE member_id = $1 AND ended_on IS NULL FOR UPDATE",
        member_id,
    )


async def end_membership(conn: Connection, membership_id: int, ended_on: date, reason: str) -> None:
    await conn.execute(
        "UPDATE memberships SET ended_on = $2, end_reason = $3 WHERE id = $1",
        membership_id,
        ended_on,
        reason,
    )


async def transfer(
    conn: Connection, member_id: UUID, cell_id: UUID, org_path: str, effective_on: date
) -> asyncpg.Record:
    await conn.execute(
        "INSERT INTO memberships (member_id, cell_id, org_path, started_on) "
        "VALUES ($1, $2, $3, $4)",
        member_id,
        cell_id,
        org_path,
        effective_on,
    )
    await conn.execute(
        "UPDATE members SET cell_id = $2, revision = revision + 1, updated_at = now() "
        "WHERE id = $1",
        member_id,
        cell_id,
    )
    row = await get(conn, member_id)
    assert row is not None
    return row


async def deactivate(conn: Connection, member_id: UUID, status: str) -> asyncpg.Record:
    """Set the leaving status, disable the account and revoke every refresh token."""
    await conn.execute(
        "UPDATE members SET status = $2, revision = revision + 1, updated_at = now() WHERE id = $1",
        member_id,
        status,
    )
    await conn.execute("UPDATE accounts SET disabled = true WHERE member_id = $1", member_id)
    await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE member_id = $1 AND revoked_at IS NULL",
        member_id,
    )
    row = await get(conn, member_id)
    assert row is not None
    return row


async def memberships(conn: Connection, member_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT s.id, s.cell_id, o.title AS cell_title, s.org_path, s.started_on, s.ended_on, "
        "s.end_reason FROM memberships s JOIN org_units o ON o.id = s.cell_id "
        "WHERE s.member_id = $1 ORDER BY s.started_on, s.id",
        member_id,
    )


async def org_paths(conn: Connection, member_ids: Sequence[UUID]) -> list[asyncpg.Record]:
    """Each listed member's id, cell and the cell's org path (members that exist)."""
    return await conn.fetch(
        "SELECT m.id, m.cell_id, o.path AS org_path FROM members m "
        "JOIN org_units o ON o.id = m.cell_id WHERE m.id = ANY($1::uuid[])",
        list(member_ids),
    )


async def reissue_activation(
    conn: Connection, member_id: UUID, digest: bytes, expires_at: datetime
) -> bool:
    """A new activation code for an account that was never activated (no password yet);
    False when the account has a password or is disabled."""
    updated = await conn.fetchval(
        "UPDATE accounts SET activation_digest = $2, activation_expires_at = $3, "
        "must_change_password = true "
        "WHERE member_id = $1 AND password_hash IS NULL AND NOT disabled RETURNING member_id",
        member_id,
        digest,
        expires_at,
    )
    return updated is not None
