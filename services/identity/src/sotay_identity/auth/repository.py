"""All SQL of authentication: accounts, throttling counters, refresh tokens, signing keys and
the reads behind tokens and ``/me``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sotay_kit.db import Connection

# ── accounts ────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Account:
    member_id: UUID
    card_number: str
    phone: str | None
    member_status: str
    password_hash: str | None
    activation_digest: bytes | None
    activation_expires_at: datetime | None
    must_change_password: bool
    totp_secret_enc: bytes | None
    totp_enabled: bool
    totp_last_step: int | None
    locked_until: datetime | None
    disabled: bool
    now: datetime

    @property
    def activation_pending(self) -> bool:
        return self.password_hash is None and self.activation_digest is not None


_ACCOUNT = """
SELECT m.id AS member_id, m.card_number, m.phone, m.status AS member_status, a.password_hash,
       a.activation_digest, a.activation_expires_at, a.must_change_password, a.totp_secret_enc,
       a.totp_enabled, a.totp_last_step, a.locked_until, a.disabled, now() AS now
FROM members m JOIN accounts a ON a.member_id = m.id
"""


def _account(row: asyncpg.Record | None) -> Account | None:
    if row is None:
        return None
    data = dict(row)
    for key in ("activation_digest", "totp_secret_enc"):
        if data[key] is not None:
            data[key] = bytes(data[key])
    return Account(**data)


async def find_account(conn: Connection, card_number: str, phones: list[str]) -> Account | None:
    """The account whose card number is ``card_number`` or whose phone is one of ``phones``
    (a card-number match wins)."""
    row = await conn.fetchrow(
        _ACCOUNT + "WHERE m.card_number = $1 OR m.phone = ANY($2::text[]) "
        "ORDER BY (m.card_number = $1) DESC LIMIT 1",
        card_number,
        phones,
    )
    return _account(row)


async def get_account(conn: Connection, member_id: UUID) -> Account | None:
    return _account(await conn.fetchrow(_ACCOUNT + "WHERE m.id = $1", member_id))


async def record_account_failure(
    conn: Connection, member_id: UUID, *, max_failures: int, lock_seconds: int
) -> datetime | None:
    """Count a failed attempt; the N-th failure locks the account. Returns ``locked_until``."""
    value: datetime | None = await conn.fetchval(
        """
        UPDATE accounts SET
            failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,
            locked_until = CASE WHEN failed_logins + 1 >= $2
                                THEN now() + $3::int * interval '1 second'
                                ELSE locked_until END
        WHERE member_id = $1
        RETURNING locked_until
        """,
        member_id,
        max_failures,
        lock_seconds,
    )
    return value


async def reset_account_failures(conn: Connection, member_id: UUID) -> None:
    await conn.execute(
        "UPDATE accounts SET failed_logins = 0 WHERE member_id = $1 "
        "AND (locked_until IS NULL OR locked_until <= now())",
        member_id,
    )


async def claim_totp_step(conn: Connection, member_id: UUID, step: int) -> bool:
    """Advance ``totp_last_step`` to ``step`` unless a code of this or a later step was used."""
    row = await conn.fetchval(
        "UPDATE accounts SET totp_last_step = $2 WHERE member_id = $1 AND totp_enabled "
        "AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING true",
        member_id,
        step,
    )
    return row is True


async def complete_login(conn: Connection, member_id: UUID, new_hash: str | None) -> bool:
    """Reset the counters and stamp the login, unless the account got locked meanwhile."""
    row = await conn.fetchval(
        "UPDATE accounts SET failed_logins = 0, locked_until = NULL, last_login_at = now(), "
        "password_hash = COALESCE($2, password_hash) "
        "WHERE member_id = $1 AND (locked_until IS NULL OR locked_until <= now()) "
        "RETURNING true",
        member_id,
        new_hash,
    )
    return row is True


async def set_password(conn: Connection, member_id: UUID, password_hash: str) -> bool | None:
    """Store a new password; the activation code stops working.

    None if the account got locked meanwhile; otherwise whether this is the account's first
    activation (PostgreSQL 18's ``RETURNING old.…`` reads the value before the update).
    """
    first: bool | None = await conn.fetchval(
        """
        UPDATE accounts SET password_hash = $2, activation_digest = NULL,
            activation_expires_at = NULL, must_change_password = false,
            password_changed_at = now(), activated_at = COALESCE(activated_at, now()),
            failed_logins = 0, locked_until = NULL
        WHERE member_id = $1 AND (locked_until IS NULL OR locked_until <= now())
        RETURNING old.activated_at IS NULL
        """,
        member_id,
        password_hash,
    )
    return first


async def member_cell(conn: Connection, member_id: UUID) -> tuple[UUID, str]:
    row = await conn.fetchrow(
        "SELECT m.cell_id, o.path FROM members m JOIN org_units o ON o.id = m.cell_id "
        "WHERE m.id = $1",
        member_id,
    )
    assert row is not None
    return row["cell_id"], row["path"]


# ── throttling per source address ───────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class SourceTurn:
    """A paced source's answer to "may this attempt be checked?": wait ``wait`` seconds for the
    turn taken, or — when the queue is longer than allowed — no turn, retry in ``retry_after``."""

    wait: float
    retry_after: int | None


async def take_source_turn(
    conn: Connection,
    source: str,
    *,
    max_failures: int,
    window_seconds: int,
    delay_seconds: float,
    max_delay_seconds: float,
    doubling_every: int,
    max_wait_seconds: float,
) -> SourceTurn | None:
    """None while the source has fewer than ``max_failures`` failures in its window. Beyond,
    attempts take turns: each turn is ``delay_seconds`` after the previous one, doubling every
    ``doubling_every`` further failures up to ``max_delay_seconds``. A turn further away than
    ``max_wait_seconds`` is not taken. Run inside a transaction (the row is locked)."""
    row = await conn.fetchrow(
        """
        SELECT extract(epoch FROM greatest(coalesce(next_slot, now()), now()) - now())
                   ::float8 AS wait,
               least($5::float8,
                     $4::float8 * power(2, (failures - $2) / $6)) AS spacing
        FROM login_failures_by_source
        WHERE source = $1::inet AND failures >= $2
          AND window_start >= now() - $3::int * interval '1 second'
        FOR UPDATE
        """,
        source,
        max_failures,
        window_seconds,
        delay_seconds,
        max_delay_seconds,
        doubling_every,
    )
    if row is None:
        return None
    wait: float = row["wait"]
    if wait > max_wait_seconds:
        return SourceTurn(wait, retry_after=max(1, math.ceil(wait - max_wait_seconds)))
    await conn.execute(
        "UPDATE login_failures_by_source SET next_slot = now() + "
        "($2::float8 + $3::float8) * interval '1 second' WHERE source = $1::inet",
        source,
        wait,
        row["spacing"],
    )
    return SourceTurn(wait, retry_after=None)


async def record_source_failure(conn: Connection, source: str, *, window_seconds: int) -> None:
    """Count a failure in the source's current window (unknown usernames included)."""
    await conn.execute(
        """
        INSERT INTO login_failures_by_source AS s (source, window_start, failures)
        VALUES ($1::inet, now(), 1)
        ON CONFLICT (source) DO UPDATE SET
            window_start = CASE WHEN s.window_start < now() - $2::int * interval '1 second'
                                THEN now() ELSE s.window_start END,
            failures = CASE WHEN s.window_start < now() - $2::int * interval '1 second'
                            THEN 1 ELSE s.failures + 1 END
        """,
        source,
        window_seconds,
    )


async def forget_old_sources(conn: Connection, older_than_seconds: int) -> None:
    await conn.execute(
        "DELETE FROM login_failures_by_source WHERE window_start < now() - $1::int * "
        "interval '1 second' AND (next_slot IS NULL OR next_slot < now())",
        older_than_seconds,
    )


# ── token subject: member, cell, grants ─────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Subject:
    member_id: UUID
    member_status: str
    disabled: bool
    must_change_password: bool
    totp_enabled: bool
    cell_id: UUID
    cell_path: str
    grants: tuple[tuple[str, str], ...]  # (role, org path), active grants only


async def subject(conn: Connection, member_id: UUID) -> Subject | None:
    row = await conn.fetchrow(
        "SELECT m.id, m.status, a.disabled, a.must_change_password, a.totp_enabled, m.cell_id, "
        "o.path FROM members m JOIN accounts a ON a.member_id = m.id "
        "JOIN org_units o ON o.id = m.cell_id WHERE m.id = $1",
        member_id,
    )
    if row is None:
        return None
    grants = await conn.fetch(
        "SELECT g.role, o.path FROM role_grants g JOIN org_units o ON o.id = g.org_id "
        "WHERE g.member_id = $1 AND g.revoked_at IS NULL AND o.status <> 'closed' "
        "ORDER BY o.path, g.role",
        member_id,
    )
    return Subject(
        member_id=row["id"],
        member_status=row["status"],
        disabled=row["disabled"],
        must_change_password=row["must_change_password"],
        totp_enabled=row["totp_enabled"],
        cell_id=row["cell_id"],
        cell_path=row["path"],
        grants=tuple((g["role"], g["path"]) for g in grants),
    )


async def has_role(conn: Connection, member_id: UUID, roles: list[str]) -> bool:
    value = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM role_grants WHERE member_id = $1 AND role = ANY($2::text[]) "
        "AND revoked_at IS NULL)",
        member_id,
        roles,
    )
    return value is True


# ── /me ─────────────────────────────────────────────────────────────────────────────────


async def profile(conn: Connection, member_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT m.id, m.card_number, m.full_name, m.status, m.cell_id, o.title AS cell_title, "
        "o.path AS cell_path, o.kind AS cell_kind, a.totp_enabled, "
        "(a.totp_secret_enc IS NOT NULL AND NOT a.totp_enabled) AS totp_pending "
        "FROM members m JOIN accounts a ON a.member_id = m.id "
        "JOIN org_units o ON o.id = m.cell_id WHERE m.id = $1",
        member_id,
    )


async def orgs_by_path(conn: Connection, paths: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, title, kind, path FROM org_units WHERE path = ANY($1::text[])", paths
    )


async def grants_with_orgs(conn: Connection, member_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT g.role, o.id AS org_id, o.title, o.kind, o.path FROM role_grants g "
        "JOIN org_units o ON o.id = g.org_id WHERE g.member_id = $1 AND g.revoked_at IS NULL "
        "AND o.status <> 'closed' ORDER BY o.path, g.role",
        member_id,
    )


# ── TOTP enrolment ──────────────────────────────────────────────────────────────────────


async def store_totp_secret(conn: Connection, member_id: UUID, secret_enc: bytes) -> bool:
    """Start (or restart) an enrolment; refused while a second factor is enabled."""
    row = await conn.fetchval(
        "UPDATE accounts SET totp_secret_enc = $2, totp_last_step = NULL "
        "WHERE member_id = $1 AND NOT totp_enabled RETURNING true",
        member_id,
        secret_enc,
    )
    return row is True


async def enable_totp(conn: Connection, member_id: UUID, step: int) -> bool:
    row = await conn.fetchval(
        "UPDATE accounts SET totp_enabled = true, totp_last_step = $2 "
        "WHERE member_id = $1 AND NOT totp_enabled AND totp_secret_enc IS NOT NULL "
        "RETURNING true",
        member_id,
        step,
    )
    return row is True


async def disable_totp(conn: Connection, member_id: UUID) -> bool:
    row = await conn.fetchval(
        "UPDATE accounts SET totp_enabled = false, totp_secret_enc = NULL, totp_last_step = NULL "
        "WHERE member_id = $1 AND totp_secret_enc IS NOT NULL RETURNING true",
        member_id,
    )
    return row is True


# ── refresh tokens ──────────────────────────────────────────────────────────────────────


async def insert_refresh_token(
    conn: Connection,
    *,
    token_id: UUID,
    family_id: UUID,
    member_id: UUID,
    digest: bytes,
    ttl_seconds: int,
) -> None:
    await conn.execute(
        "INSERT INTO refresh_tokens (id, family_id, member_id, digest, expires_at) "
        "VALUES ($1, $2, $3, $4, now() + $5::int * interval '1 second')",
        token_id,
        family_id,
        member_id,
        digest,
        ttl_seconds,
    )


async def claim_refresh_token(conn: Connection, digest: bytes) -> asyncpg.Record | None:
    """Mark a live, unused token used (atomically: of two concurrent uses one wins)."""
    return await conn.fetchrow(
        "UPDATE refresh_tokens SET used_at = now() WHERE digest = $1 AND used_at IS NULL "
        "AND revoked_at IS NULL AND expires_at > now() RETURNING id, family_id, member_id",
        digest,
    )


async def find_refresh_token(conn: Connection, digest: bytes) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, family_id, member_id, used_at, revoked_at, expires_at <= now() AS expired "
        "FROM refresh_tokens WHERE digest = $1",
        digest,
    )


async def revoke_family(conn: Connection, family_id: UUID) -> int:
    result = await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
        family_id,
    )
    return int(result.split()[-1])


async def revoke_member_tokens(conn: Connection, member_id: UUID) -> int:
    result = await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE member_id = $1 AND revoked_at IS NULL",
        member_id,
    )
    return int(result.split()[-1])


# ── signing keys ────────────────────────────────────────────────────────────────────────


async def lock_signing_keys(conn: Connection, lock_key: int) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key)


async def insert_signing_key(
    conn: Connection, kid: str, private_key_enc: bytes, public_jwk: dict[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO signing_keys (kid, private_key_enc, public_jwk, created_at) "
        "VALUES ($1, $2, $3, clock_timestamp())",
        kid,
        private_key_enc,
        public_jwk,
    )


async def current_signing_kid(conn: Connection) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT kid FROM signing_keys WHERE retired_at IS NULL "
        "ORDER BY created_at DESC, kid LIMIT 1"
    )
    return value


async def signing_private_key(conn: Connection, kid: str) -> bytes | None:
    value = await conn.fetchval(
        "SELECT private_key_enc FROM signing_keys WHERE kid = $1 AND retired_at IS NULL", kid
    )
    return bytes(value) if value is not None else None


async def published_keys(conn: Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT public_jwk FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC"
    )
    return [dict(r["public_jwk"]) for r in rows]


async def signing_key_states(conn: Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT kid, created_at, retired_at FROM signing_keys ORDER BY created_at DESC"
    )


async def retire_signing_key(conn: Connection, kid: str) -> bool:
    row = await conn.fetchval(
        "UPDATE signing_keys SET retired_at = now() WHERE kid = $1 AND retired_at IS NULL "
        "RETURNING true",
        kid,
    )
    return row is True
