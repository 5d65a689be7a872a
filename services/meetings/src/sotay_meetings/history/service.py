"""The attendance history of a cell's members: for the cell's secretary (and whoever manages
the cell), how each member attended the cell's closed meetings over the last months."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sotay_kit.auth import Principal
from sotay_kit.clock import LOCAL_TZ
from sotay_kit.db import Connection
from sotay_kit.errors import Unprocessable
from sotay_kit.orgs import CELL_KINDS
from sotay_kit.pagination import decode_keyset, encode_cursor, key_uuid

from .. import access, problems
from ..meetings import repository as meetings_repository
from . import repository
from .schemas import AttendanceHistory, MemberAttendance


def since_local(now: datetime, months: int) -> datetime:
    """The first day (00:00, Vietnam's time) of the month ``months - 1`` months before now's."""
    today = now.astimezone(LOCAL_TZ)
    index = today.year * 12 + today.month - 1 - (months - 1)
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=LOCAL_TZ)


async def history(
    conn: Connection,
    who: Principal,
    org_id: UUID,
    *,
    months: int,
    now: datetime,
    limit: int,
    cursor: str | None,
) -> AttendanceHistory:
    org = await meetings_repository.org(conn, org_id)
    if org is None or not access.manages_org(who, org["path"]):
        raise problems.OrgNotFound("Không tìm thấy tổ chức hoặc tổ chức ngoài phạm vi của bạn")
    if org["kind"] not in CELL_KINDS:
        raise Unprocessable("Lịch sử điểm danh chỉ xem theo từng chi bộ")
    since = since_local(now, months)

    def parse(raw: Any) -> UUID:
        return key_uuid(raw)

    after = decode_keyset(cursor, parse)
    rows = await repository.history(conn, org_id, since, after=after, limit=limit)
    items = [MemberAttendance(**{**dict(r), "recent": list(r["recent"] or [])}) for r in rows]
    return AttendanceHistory(
        org_id=org_id,
        since=since.date(),
        meetings=await repository.closed_meetings(conn, org_id, since),
        items=items,
        next_cursor=encode_cursor(str(rows[-1]["member_id"])) if len(rows) == limit else None,
    )
