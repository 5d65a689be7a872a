"""Use cases of the org tree: read, create, update, move a subtree, close.

The request's transaction is the one every statement and event of a use case goes into
(``sotay_kit.outbox.enqueue``); authorization is checked here, against the target's path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from sotay_contracts.events.identity import OrgClosed, OrgCreated, OrgKind, OrgMoved, OrgUpdated
from sotay_kit import outbox
from sotay_kit.auth import Principal, path_within
from sotay_kit.db import Connection
from sotay_kit.errors import Conflict, NotFound, Unprocessable
from sotay_kit.pagination import Page, decode_keyset, encode_cursor, key_int, key_uuid
from sotay_kit.text import search_words

from ..audit import repository as audit
from ..grants import service as grants_service
from ..members import fields
from . import repository
from .access import ADMIN, ORG_NOT_FOUND, READ_ROLES, authorize, hide_unless_reachable
from .schemas import (
    CellMateOut,
    OrgClose,
    OrgCreate,
    OrgFound,
    OrgMemberOut,
    OrgMove,
    OrgOut,
    OrgPatch,
    OrgTrailItem,
    SecretaryOut,
)

KIND_LABELS: dict[OrgKind, str] = {
    OrgKind.PROVINCE: "đảng bộ tỉnh",
    OrgKind.DISTRICT: "đảng bộ cấp huyện",
    OrgKind.GRASSROOTS_COMMITTEE: "đảng ủy cơ sở",
    OrgKind.GRASSROOTS_CELL: "chi bộ cơ sở",
    OrgKind.CELL: "chi bộ trực thuộc",
}

# Which kind of node may sit directly under which. The province is the root and is created
# only by the province load, never through the API.
ALLOWED_PARENTS: dict[OrgKind, frozenset[OrgKind]] = {
    OrgKind.PROVINCE: frozenset(),
    OrgKind.DISTRICT: frozenset({OrgKind.PROVINCE}),
    OrgKind.GRASSROOTS_COMMITTEE: frozenset({OrgKind.PROVINCE, OrgKind.DISTRICT}),
    OrgKind.GRASSROOTS_CELL: frozenset({OrgKind.PROVINCE, OrgKind.DISTRICT}),
    OrgKind.CELL: frozenset({OrgKind.GRASSROOTS_COMMITTEE}),
}


def check_kind_under(kind: OrgKind, parent_kind: OrgKind) -> None:
    allowed = ALLOWED_PARENTS[kind]
    if parent_kind in allowed:
        return
    if not allowed:
        raise Unprocessable(f"Không thể tạo hoặc chuyển {KIND_LABELS[kind]} qua API")
    names = " hoặc ".join(KIND_LABELS[k] for k in sorted(allowed))
    raise Unprocessable(
        f"{KIND_LABELS[kind].capitalize()} phải trực thuộc {names}, "
        f"không thể trực thuộc {KIND_LABELS[parent_kind]}"
    )


def to_out(row: asyncpg.Record) -> OrgOut:
    return OrgOut.model_validate(dict(row))


async def load(conn: Connection, org_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    row = await repository.get(conn, org_id, lock=lock)
    if row is None:
        raise NotFound(ORG_NOT_FOUND)
    return row


def authorize_read(who: Principal, org: asyncpg.Record) -> None:
    """Officers of an ancestor-or-self read a node; a member reads their own cell's node."""
    if who.cell_id is not None and who.cell_id == org["id"]:
        return
    authorize(who, READ_ROLES, org["path"])


async def get_org(conn: Connection, who: Principal, org_id: UUID) -> OrgOut:
    org = await load(conn, org_id)
    authorize_read(who, org)
    return to_out(org)


async def list_children(
    conn: Connection,
    who: Principal,
    org_id: UUID,
    *,
    limit: int,
    cursor: str | None,
    include_closed: bool,
) -> Page[OrgOut]:
    org = await load(conn, org_id)
    authorize_read(who, org)
    after = decode_keyset(cursor, key_int)
    rows = await repository.children(
        conn, org_id, after_key=after, limit=limit + 1, include_closed=include_closed
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[to_out(r) for r in rows],
        next_cursor=encode_cursor(rows[-1]["key"]) if more else None,
    )


async def search_orgs(
    conn: Connection, who: Principal, query: str, *, limit: int, include_closed: bool
) -> list[OrgFound]:
    """Orgs whose title (without diacritics) holds every word of ``query``, or whose code is
    ``query``, inside the subtrees where the caller holds a read role; a member without one
    finds nothing. Each comes with its ancestors inside that subtree, top first."""
    words = search_words(query)
    if not words:
        raise Unprocessable(
            "Nhập tên hoặc mã tổ chức cần tìm",
            extensions={"errors": [{"loc": ["query", "q"], "type": "value_error"}]},
        )
    roots = who.subtree_roots(READ_ROLES)
    roots = [r for r in roots if not any(o != r and path_within(r, o) for o in roots)]
    if not roots:
        return []
    rows = await repository.search(conn, roots, words, limit=limit, include_closed=include_closed)
    wanted: set[str] = set()
    for row in rows:
        root = next(r for r in roots if path_within(row["path"], r))
        labels = row["path"].split(".")
        depth = root.count(".") + 1
        wanted.update(".".join(labels[:i]) for i in range(depth, len(labels)))
    above = {r["path"]: r for r in await repository.titles_by_paths(conn, sorted(wanted))}
    found = []
    for row in rows:
        labels = row["path"].split(".")
        trail = [
            OrgTrailItem(id=a["id"], title=a["title"], kind=a["kind"])
            for i in range(1, len(labels))
            if (a := above.get(".".join(labels[:i]))) is not None
        ]
        found.append(OrgFound(**to_out(row).model_dump(), trail=trail))
    return found


async def list_members(
    conn: Connection,
    who: Principal,
    org_id: UUID,
    *,
    query: str | None,
    limit: int,
    cursor: str | None,
) -> Page[OrgMemberOut]:
    org = await load(conn, org_id)
    # A cell meets every month and its members know each other: a member may list their own
    # cell (a roster line has no contact or identity numbers); anything wider needs a role.
    if await repository.member_cell(conn, who.member_id) != org_id:
        authorize(who, READ_ROLES, org["path"])
    after = _name_cursor(cursor)
    folded = fields.fold(query) if query else None
    rows = await repository.members_on_roll(
        conn, org["path"], query=folded or None, after=after, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[OrgMemberOut.model_validate(dict(r)) for r in rows],
        next_cursor=(
            encode_cursor([rows[-1]["search_name"], str(rows[-1]["id"])]) if more else None
        ),
    )


def _name_cursor(cursor: str | None) -> tuple[str, UUID] | None:
    """(search name, member id): the keyset of lists of members by name."""
    return decode_keyset(cursor, lambda raw: (str(raw[0]), key_uuid(raw[1])))


async def list_my_cell_members(
    conn: Connection, who: Principal, *, limit: int, cursor: str | None
) -> Page[CellMateOut]:
    """The caller's own cell, read from their member record (not the token, which may predate
    a transfer): a cell meets every month, its members know each other by name and role."""
    cell_id = await repository.member_cell(conn, who.member_id)
    if cell_id is None:
        raise NotFound("Không tìm thấy chi bộ của bạn")
    rows = await repository.cell_roster(conn, cell_id, after=_name_cursor(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[CellMateOut.model_validate(dict(r)) for r in rows],
        next_cursor=(
            encode_cursor([rows[-1]["search_name"], str(rows[-1]["id"])]) if more else None
        ),
    )


async def list_secretaries(conn: Connection, who: Principal, org_id: UUID) -> Page[SecretaryOut]:
    org = await load(conn, org_id)
    authorize_read(who, org)
    rows = await grants_service.cell_officers(conn, org_id)
    return Page(
        items=[
            SecretaryOut(
                grant_id=r["id"],
                member_id=r["member_id"],
                full_name=r["full_name"],
                role=r["role"],
            )
            for r in rows
        ]
    )


async def create_org(
    conn: Connection, who: Principal, body: OrgCreate, *, source: str | None, now: datetime
) -> OrgOut:
    await repository.lock_tree(conn, exclusive=True)
    parent = await load(conn, body.parent_id)
    authorize(who, ADMIN, parent["path"])
    if parent["status"] != "active":
        raise Conflict("Tổ chức cấp trên đã giải thể hoặc đang tạm dừng hoạt động")
    check_kind_under(body.kind, OrgKind(parent["kind"]))
    try:
        row = await repository.insert(
            conn,
            org_id=uuid4(),
            parent_id=parent["id"],
            parent_path=parent["path"],
            title=body.title,
            kind=body.kind.value,
            code=body.code,
            valid_from=body.valid_from,
        )
    except repository.UniqueViolation:
        raise Conflict("Mã tổ chức đã được một tổ chức đang hoạt động sử dụng") from None
    await outbox.enqueue(
        conn,
        OrgCreated(**_event_state(row), parent_id=row["parent_id"], occurred_at=now),
    )
    await audit.record(
        conn,
        "orgs.created",
        actor_id=who.member_id,
        target=str(row["id"]),
        source=source,
        details={"parent_id": str(parent["id"]), "path": row["path"], "kind": row["kind"]},
    )
    return to_out(row)


_NOT_NULLABLE = ("title", "status", "valid_from")
_EVENT_STATE = ("path", "kind", "title", "code", "status", "valid_from", "valid_to", "revision")


def _event_state(row: asyncpg.Record) -> dict[str, Any]:
    """What the org events carry of an org's row."""
    return {"org_id": row["id"], **{name: row[name] for name in _EVENT_STATE}}


async def update_org(
    conn: Connection, who: Principal, org_id: UUID, body: OrgPatch, *, now: datetime
) -> OrgOut:
    org = await load(conn, org_id, lock=True)
    authorize(who, ADMIN, org["path"])
    sent = body.model_fields_set
    for name in _NOT_NULLABLE:
        if name in sent and getattr(body, name) is None:
            raise Unprocessable(f"Trường {name} không được để trống")
    if org["status"] == "closed":
        raise Conflict("Tổ chức đã giải thể; không thể sửa")
    changes: dict[str, Any] = {
        name: getattr(body, name) for name in sent if getattr(body, name) != org[name]
    }
    valid_from = changes.get("valid_from", org["valid_from"])
    valid_to = changes.get("valid_to", org["valid_to"])
    if valid_to is not None and valid_to < valid_from:
        raise Unprocessable("Ngày kết thúc hiệu lực không được trước ngày bắt đầu")
    if not changes:
        return to_out(org)
    try:
        row = await repository.update(conn, org_id, changes)
    except repository.UniqueViolation:
        raise Conflict("Mã tổ chức đã được một tổ chức đang hoạt động sử dụng") from None
    await outbox.enqueue(
        conn,
        OrgUpdated(**_event_state(row), changed_fields=sorted(changes), occurred_at=now),
    )
    return to_out(row)


async def move_org(
    conn: Connection,
    who: Principal,
    org_id: UUID,
    body: OrgMove,
    *,
    source: str | None,
    now: datetime,
) -> OrgOut:
    await repository.lock_tree(conn, exclusive=True)
    org = await load(conn, org_id, lock=True)
    hide_unless_reachable(who, org["path"])
    if org["parent_id"] is None:
        authorize(who, ADMIN, org["path"])
        raise Conflict("Không thể chuyển tổ chức gốc")
    old_parent = await load(conn, org["parent_id"])
    authorize(who, ADMIN, old_parent["path"])
    new_parent = await load(conn, body.new_parent_id)
    authorize(who, ADMIN, new_parent["path"])
    if org["status"] == "closed":
        raise Conflict("Tổ chức đã giải thể; không thể chuyển")
    if path_within(new_parent["path"], org["path"]):
        raise Unprocessable("Không thể chuyển một tổ chức vào bên trong chính nó")
    if new_parent["id"] == old_parent["id"]:
        raise Conflict("Tổ chức đã trực thuộc tổ chức cấp trên này")
    if new_parent["status"] != "active":
        raise Conflict("Tổ chức cấp trên mới đã giải thể hoặc đang tạm dừng hoạt động")
    check_kind_under(OrgKind(org["kind"]), OrgKind(new_parent["kind"]))
    old_path = org["path"]
    new_path = f"{new_parent['path']}.{org['key']}"
    row = await repository.move(conn, org_id, old_path, new_path, new_parent["id"])
    await outbox.enqueue(
        conn,
        OrgMoved(
            org_id=org_id,
            old_parent_id=old_parent["id"],
            new_parent_id=new_parent["id"],
            old_path=old_path,
            new_path=new_path,
            revision=row["revision"],
            occurred_at=now,
        ),
    )
    await audit.record(
        conn,
        "orgs.moved",
        actor_id=who.member_id,
        target=str(org_id),
        source=source,
        details={"old_path": old_path, "new_path": new_path},
    )
    return to_out(row)


async def close_org(
    conn: Connection,
    who: Principal,
    org_id: UUID,
    body: OrgClose,
    *,
    source: str | None,
    now: datetime,
) -> OrgOut:
    await repository.lock_tree(conn, exclusive=True)
    org = await load(conn, org_id, lock=True)
    authorize(who, ADMIN, org["path"])
    if org["status"] == "closed":
        raise Conflict("Tổ chức đã giải thể từ trước")
    if org["parent_id"] is None:
        raise Conflict("Không thể giải thể tổ chức gốc")
    if body.closed_on < org["valid_from"]:
        raise Unprocessable("Ngày giải thể không được trước ngày bắt đầu hiệu lực của tổ chức")
    successor_id = None
    if body.successor_id is not None:
        successor = await load(conn, body.successor_id)
        authorize(who, ADMIN, successor["path"])
        if successor["id"] == org_id or path_within(successor["path"], org["path"]):
            raise Unprocessable("Tổ chức tiếp nhận phải là một tổ chức khác, ngoài tổ chức này")
        if successor["status"] == "closed":
            raise Conflict("Tổ chức tiếp nhận đã giải thể")
        successor_id = successor["id"]
    members = await repository.count_members_on_roll(conn, org_id)
    children = await repository.count_open_children(conn, org_id)
    if members or children:
        reasons = []
        if members:
            reasons.append(f"{members} đảng viên đang sinh hoạt")
        if children:
            reasons.append(f"{children} tổ chức trực thuộc chưa giải thể")
        raise Conflict(
            "Không thể giải thể: tổ chức còn "
            + " và ".join(reasons)
            + ". Hãy chuyển sinh hoạt đảng viên và chuyển hoặc giải thể các tổ chức trực thuộc "
            "trước.",
            extensions={"members_on_roll": members, "open_children": children},
        )
    row = await repository.close(conn, org_id, body.closed_on, successor_id)
    await grants_service.revoke_on_org(conn, org_id, revoked_by=who.member_id, now=now)
    await outbox.enqueue(
        conn,
        OrgClosed(
            org_id=org_id,
            path=row["path"],
            closed_on=body.closed_on,
            successor_org_id=successor_id,
            revision=row["revision"],
            occurred_at=now,
        ),
    )
    await audit.record(
        conn,
        "orgs.closed",
        actor_id=who.member_id,
        target=str(org_id),
        source=source,
        details={
            "closed_on": body.closed_on.isoformat(),
            "successor_id": str(successor_id) if successor_id else None,
        },
    )
    return to_out(row)
