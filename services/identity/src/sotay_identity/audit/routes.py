"""Operators read the audit log and verify its hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import Forbidden

from . import repository

router = APIRouter(prefix="/api/v1/identity/audit", tags=["audit"])


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
    if not any(g.role == "operator" for g in who.grants):
        raise Forbidden("Chỉ cán bộ vận hành được xem nhật ký kiểm toán")


@router.get("", response_model=AuditPage)
async def list_audit(
    who: CurrentPrincipal,
    conn: DbConnection,
    limit: int = Query(default=50, ge=1, le=500),
    cursor: int | None = Query(default=None, ge=1),
) -> AuditPage:
    _require_operator(who)
    rows = await repository.list_entries(conn, before_seq=cursor, limit=limit)
    items = [AuditEntry(**r) for r in rows]
    next_cursor = str(items[-1].seq) if len(items) == limit else None
    return AuditPage(items=items, next_cursor=next_cursor)


@router.get("/verify", response_model=ChainVerification)
async def verify_chain(who: CurrentPrincipal, conn: DbConnection) -> ChainVerification:
    _require_operator(who)
    report = await repository.verify(conn)
    return ChainVerification(
        ok=report.ok, entries=report.entries, first_broken_seq=report.first_broken_seq
    )
