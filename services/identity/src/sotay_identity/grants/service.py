"""Granting and revoking roles on an org node (the grant covers the node's subtree).

Rules: an ``org_admin`` of an ancestor-or-self of the node grants and revokes every role but
``operator``, which only an ``operator`` (on an ancestor-or-self) grants or revokes. The grantee
must be a member on the roll whom the granter administers; roles that describe a place in the
party (``member``, ``cell_secretary``, ``cell_deputy``, ``committee_member``) go only to members
whose cell lies inside the node, and the cell roles only on cells. Grants are immutable: a change
is a revoke plus a grant.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

import asyncpg
from sotay_contracts.events.identity import RoleGranted, RoleRevoked
from sotay_kit import outbox
from sotay_kit.auth import Principal, path_within
from sotay_kit.db import Connection
from sotay_kit.errors import Conflict, NotFound, Unprocessable
from sotay_kit.orgs import CELL_KINDS
from sotay_kit.pagination import Page, decode_keyset, encode_cursor, key_uuid

from ..audit import repository as audit
from ..members import repository as members_repository
from ..orgs import repository as orgs_repository
from ..orgs.access import ADMIN, MEMBER_NOT_FOUND, OPERATOR, ORG_NOT_FOUND, authorize
from . import repository
from .schemas import GrantCreate, GrantOut

GRANT_NOT_FOUND = "Không tìm thấy phân quyền"
PLACE_ROLES = frozenset({"member", "cell_secretary", "cell_deputy", "committee_member"})
CELL_ROLES = frozenset({"cell_secretary", "cell_deputy"})


def granting_role(role: str) -> str:
    """The role a caller needs (on an ancestor-or-self of the node) to grant or revoke ``role``."""
    return OPERATOR if role == OPERATOR else ADMIN


def to_out(row: asyncpg.Record) -> GrantOut:
    return GrantOut.model_validate(dict(row))


def _revoked_event(row: asyncpg.Record, revoked_by: UUID | None, *, now: datetime) -> RoleRevoked:
    return RoleRevoked(
        grant_id=row["id"],
        member_id=row["member_id"],
        role=row["role"],
        org_id=row["org_id"],
        org_path=row["org_path"],
        revoked_by=revoked_by,
        occurred_at=now,
    )


async def _revoke(
    conn: Connection, grant_ids: list[UUID], revoked_by: UUID | None, *, now: datetime
) -> list[asyncpg.Record]:
    rows = await repository.revoke(conn, grant_ids, revoked_by)
    if rows:
        await outbox.enqueue(conn, *(_revoked_event(r, revoked_by, now=now) for r in rows))
    return rows


async def revoke_on_org(
    conn: Connection, org_id: UUID, *, revoked_by: UUID | None, now: datetime
) -> list[asyncpg.Record]:
    """Revoke every active grant on a node (it is being closed)."""
    grants = await repository.active_on_org(conn, org_id)
    return await _revoke(conn, [g["id"] for g in grants], revoked_by, now=now)


async def revoke_for_member(
    conn: Connection,
    member_id: UUID,
    *,
    revoked_by: UUID | None,
    keep_over: str | None = None,
    now: datetime,
) -> list[asyncpg.Record]:
    """Revoke a member's active grants — all of them, or (``keep_over``) those whose node no
    longer contains the member's cell at path ``keep_over``."""
    grants = await repository.active_for_member(conn, member_id)
    doomed = [
        g["id"] for g in grants if keep_over is None or not path_within(keep_over, g["org_path"])
    ]
    return await _revoke(conn, doomed, revoked_by, now=now)


async def cell_officers(conn: Connection, org_id: UUID) -> list[asyncpg.Record]:
    return await repository.cell_officers(conn, org_id)


async def grant(
    conn: Connection, who: Principal, body: GrantCreate, *, source: str | None, now: datetime
) -> GrantOut:
    needed = granting_role(body.role)
    org = await orgs_repository.get(conn, body.org_id)
    if org is None:
        raise NotFound(ORG_NOT_FOUND)
    authorize(who, needed, org["path"])
    member = await members_repository.get(conn, body.member_id)
    if member is None:
        raise NotFound(MEMBER_NOT_FOUND)
    authorize(who, needed, member["org_path"], not_found=MEMBER_NOT_FOUND)
    if org["status"] == "closed":
        raise Conflict("Tổ chức đã giải thể; không thể phân quyền")
    if member["status"] not in ("active", "exempt"):
        raise Conflict("Đảng viên không còn sinh hoạt; không thể phân quyền")
    if body.role in CELL_ROLES and org["kind"] not in CELL_KINDS:
        raise Unprocessable("Vai trò bí thư, phó bí thư chỉ gán trên một chi bộ")
    if body.role in PLACE_ROLES and not path_within(member["org_path"], org["path"]):
        raise Unprocessable("Đảng viên phải đang sinh hoạt trong tổ chức được phân quyền")
    row = await repository.insert(
        conn, uuid4(), body.member_id, body.role, body.org_id, who.member_id
    )
    if row is None:
        raise Conflict("Đảng viên đã có vai trò này trên tổ chức này")
    await outbox.enqueue(
        conn,
        RoleGranted(
            grant_id=row["id"],
            member_id=row["member_id"],
            role=row["role"],
            org_id=row["org_id"],
            org_path=row["org_path"],
            granted_by=who.member_id,
            occurred_at=now,
        ),
    )
    await audit.record(
        conn,
        "roles.granted",
        actor_id=who.member_id,
        target=str(row["id"]),
        source=source,
        details={
            "member_id": str(row["member_id"]),
            "role": row["role"],
            "org_id": str(row["org_id"]),
            "org_path": row["org_path"],
        },
    )
    return to_out(row)


async def revoke(
    conn: Connection, who: Principal, grant_id: UUID, *, source: str | None, now: datetime
) -> None:
    row = await repository.get(conn, grant_id, lock=True)
    if row is None:
        raise NotFound(GRANT_NOT_FOUND)
    authorize(who, granting_role(row["role"]), row["org_path"], not_found=GRANT_NOT_FOUND)
    if row["revoked_at"] is not None:
        raise Conflict("Phân quyền này đã bị thu hồi")
    await _revoke(conn, [grant_id], who.member_id, now=now)
    await audit.record(
        conn,
        "roles.revoked",
        actor_id=who.member_id,
        target=str(grant_id),
        source=source,
        details={
            "member_id": str(row["member_id"]),
            "role": row["role"],
            "org_id": str(row["org_id"]),
            "org_path": row["org_path"],
        },
    )


async def list_grants(
    conn: Connection,
    who: Principal,
    org_id: UUID,
    *,
    role: str | None,
    member_id: UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[GrantOut]:
    org = await orgs_repository.get(conn, org_id)
    if org is None:
        raise NotFound(ORG_NOT_FOUND)
    authorize(who, ADMIN, org["path"])
    after = decode_keyset(cursor, key_uuid)
    rows = await repository.active_in_subtree(
        conn, org["path"], role=role, member_id=member_id, after=after, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[to_out(r) for r in rows],
        next_cursor=encode_cursor(str(rows[-1]["id"])) if more else None,
    )
