"""The append-only audit log of sensitive actions (DESIGN.md §8), one per service database,
each row chained to the previous one by SHA-256.

Tampering with any stored row (or deleting one in the middle) breaks the chain from that row
on, which :func:`verify` reports. A database trigger refuses UPDATE and DELETE; the chain is
what catches someone who gets around the trigger.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from . import partitions
from .app import DbConnection
from .auth import CurrentPrincipal
from .db import Connection
from .errors import Forbidden, problem_responses

AUDIT_DDL = """
-- Append-only audit log, each row chained to the previous one by SHA-256.
CREATE TABLE audit_log (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id   uuid,
    action     text NOT NULL,
    target     text,
    source     inet,
    outcome    text NOT NULL,
    details    jsonb NOT NULL DEFAULT '{}',
    prev_hash  bytea NOT NULL,
    hash       bytea NOT NULL UNIQUE
);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"""

# The log partitioned by month of ``at`` (sotay_kit.partitions): each service's migration runs
# ``partitions.convert_sql(partitions.AUDIT_LOG, AUDIT_PARTITIONED_DDL, ...)``. Unique keys hold
# the partition key. Past retention, months are archived, not dropped, and :func:`verify` reads
# them first. The append-only rule is a row trigger that Postgres clones onto every partition
# (a statement trigger on the parent does not fire for a statement on a partition); partition
# maintenance alone may move rows, out of the default partition (``sotay.partition_maintenance``).
AUDIT_PARTITIONED_DDL = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('sotay.partition_maintenance', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TABLE audit_log (
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id   uuid,
    action     text NOT NULL,
    target     text,
    source     inet,
    outcome    text NOT NULL,
    details    jsonb NOT NULL DEFAULT '{}',
    prev_hash  bytea NOT NULL,
    hash       bytea NOT NULL,
    PRIMARY KEY (seq, at),
    UNIQUE (hash, at)
) PARTITION BY RANGE (at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"""
_SEQ_CONTINUES = (
    "SELECT setval(pg_get_serial_sequence('audit_log', 'seq'), max(seq)) FROM audit_log "
    "HAVING count(*) > 0"
)


def partition_log_sql(today: date) -> str:
    """A service migration's SQL: rebuild the audit log as the partitioned table, keeping its
    rows and carrying its sequence on (the chain's order)."""
    convert = partitions.convert_sql(partitions.AUDIT_LOG, AUDIT_PARTITIONED_DDL, today=today)
    return f"{convert}{_SEQ_CONTINUES};"


def unpartition_log_sql() -> str:
    """The downgrade of :func:`partition_log_sql`."""
    revert = partitions.revert_sql(
        ["audit_log"], AUDIT_DDL, drop_also="DROP FUNCTION audit_log_append_only();"
    )
    return f"{revert}{_SEQ_CONTINUES};"


GENESIS = b"\x00" * 32
_AUDIT_LOCK = 0x617564_6974  # serialises appends so each row links to the latest one


def _canonical(
    at: datetime,
    actor_id: UUID | None,
    action: str,
    target: str | None,
    source: str | None,
    outcome: str,
    details: dict[str, Any],
) -> bytes:
    return json.dumps(
        {
            "at": at.astimezone(UTC).isoformat(),
            "actor_id": str(actor_id) if actor_id else None,
            "action": action,
            "target": target,
            "source": source,
            "outcome": outcome,
            "details": details,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _source(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


async def record(
    conn: Connection,
    action: str,
    *,
    outcome: str = "success",
    actor_id: UUID | None = None,
    target: str | None = None,
    source: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append an entry inside the caller's transaction. ``details`` holds ids and codes only;
    ``at`` defaults to the current time (tests of retention pass months past)."""
    details = details or {}
    source = _source(source)
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _AUDIT_LOCK)
    prev = await conn.fetchval("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1") or GENESIS
    at = at or datetime.now(UTC)
    digest = _sha256(prev + _canonical(at, actor_id, action, target, source, outcome, details))
    await conn.execute(
        "INSERT INTO audit_log (at, actor_id, action, target, source, outcome, details, "
        "prev_hash, hash) VALUES ($1, $2, $3, $4, $5::inet, $6, $7, $8, $9)",
        at,
        actor_id,
        action,
        target,
        source,
        outcome,
        details,
        prev,
        digest,
    )


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_broken_seq: int | None


async def verify(conn: Connection, batch: int = 5000) -> ChainReport:
    """Walk the chain from its first entry: the archived months, then the live log."""
    prev = GENESIS
    last_seq = 0
    count = 0
    sources = [*await partitions.archived(conn, "audit_log"), "audit_log"]
    entries = " UNION ALL ".join(f"SELECT * FROM {name}" for name in sources)  # noqa: S608
    while True:
        rows = await conn.fetch(
            "SELECT seq, at, actor_id, action, target, host(source) AS source, outcome, "  # noqa: S608
            f"details, prev_hash, hash FROM ({entries}) AS e "
            "WHERE seq > $1 ORDER BY seq LIMIT $2",
            last_seq,
            batch,
        )
        if not rows:
            return ChainReport(True, count, None)
        for r in rows:
            expected = _sha256(
                prev
                + _canonical(
                    r["at"],
                    r["actor_id"],
                    r["action"],
                    r["target"],
                    r["source"],
                    r["outcome"],
                    r["details"],
                )
            )
            if bytes(r["prev_hash"]) != prev or bytes(r["hash"]) != expected:
                return ChainReport(False, count, r["seq"])
            prev = bytes(r["hash"])
            count += 1
            last_seq = r["seq"]


async def list_entries(
    conn: Connection, *, before_seq: int | None, limit: int
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT seq, at, actor_id, action, target, host(source) AS source, outcome, details "
        "FROM audit_log WHERE ($1::bigint IS NULL OR seq < $1) ORDER BY seq DESC LIMIT $2",
        before_seq,
        limit,
    )
    return [dict(r) for r in rows]


# -- operators' endpoints --------------------------------------------------------------------


class AuditEntry(BaseModel):
    seq: int
    at: datetime
    actor_id: UUID | None
    action: str
    target: str | None
    source: str | None
    outcome: str
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None


class ChainVerification(BaseModel):
    ok: bool
    entries: int
    first_broken_seq: int | None


def _require_operator(who: CurrentPrincipal) -> None:
    # The log spans the whole tree: only an operator of a root node may read it.
    if not any(g.role == "operator" and "." not in g.org_path for g in who.grants):
        raise Forbidden("Chỉ cán bộ vận hành cấp cao nhất được xem nhật ký kiểm toán")


def router(service: str) -> APIRouter:
    """``GET /api/v1/<service>/audit`` (newest first) and ``…/audit/verify``, operators only."""
    api = APIRouter(
        prefix=f"/api/v1/{service}/audit", tags=["audit"], responses=problem_responses(Forbidden)
    )

    @api.get("", response_model=AuditPage)
    async def list_audit(
        who: CurrentPrincipal,
        conn: DbConnection,
        limit: int = Query(default=50, ge=1, le=500),
        cursor: int | None = Query(default=None, ge=1, le=2**62),
    ) -> AuditPage:
        _require_operator(who)
        rows = await list_entries(conn, before_seq=cursor, limit=limit)
        items = [AuditEntry(**r) for r in rows]
        next_cursor = str(items[-1].seq) if len(items) == limit else None
        return AuditPage(items=items, next_cursor=next_cursor)

    @api.get("/verify", response_model=ChainVerification)
    async def verify_chain(who: CurrentPrincipal, conn: DbConnection) -> ChainVerification:
        _require_operator(who)
        report = await verify(conn)
        return ChainVerification(
            ok=report.ok, entries=report.entries, first_broken_seq=report.first_broken_seq
        )

    return api
