"""Use cases of members: create, read, update, transfer (chuyển sinh hoạt), deactivate, import.

Every use case runs in the request's transaction; its events go to the outbox in that same
transaction, and the audit log gets an entry for transfers, deactivations and imports.
Events carry ids, org paths and codes only — never names, phone numbers or ID numbers — except
the directory's internal subjects (``directory.py``): a member's display name and card number.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from sotay_contracts import CloudEvent
from sotay_contracts.events.identity import (
    DeactivationReason,
    MemberCreated,
    MemberDeactivated,
    MemberStatus,
    MemberTransferred,
    MemberUpdated,
)
from sotay_kit import outbox
from sotay_kit.auth import Principal
from sotay_kit.clock import LOCAL_TZ
from sotay_kit.db import Connection
from sotay_kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from sotay_kit.orgs import CELL_KINDS
from sotay_kit.pagination import Page

from ..audit import repository as audit
from ..crypto import DataCipher
from ..grants import service as grants_service
from ..orgs import repository as orgs_repository
from ..orgs.access import ADMIN, MEMBER_NOT_FOUND, READ_ROLES, authorize
from ..orgs.access import ORG_NOT_FOUND as CELL_NOT_FOUND
from ..problems import ImportRejected
from . import activation, directory, fields, importer, repository
from .schemas import (
    ActivationOut,
    ActivationReissued,
    ActivationSheetPrinted,
    ImportResult,
    MemberCreate,
    MemberDeactivate,
    MemberOut,
    MemberPatch,
    MembershipOut,
    MemberTransfer,
)
from .schemas import MemberCreated as MemberCreatedOut

ON_ROLL = ("active", "exempt")

# reason -> (member status, end reason of the membership row)
DEACTIVATION: dict[DeactivationReason, tuple[MemberStatus, str]] = {
    DeactivationReason.TRANSFERRED_OUT: (MemberStatus.TRANSFERRED_OUT, "transferred_out"),
    DeactivationReason.DECEASED: (MemberStatus.DECEASED, "deceased"),
    # expelled = "khai trừ / xóa tên": every other way of leaving the rolls
    DeactivationReason.MEMBERSHIP_ENDED: (MemberStatus.EXPELLED, "expelled"),
    DeactivationReason.DUPLICATE_RECORD: (MemberStatus.EXPELLED, "other"),
    DeactivationReason.OTHER: (MemberStatus.EXPELLED, "other"),
}


def citizen_aad(member_id: UUID) -> str:
    return f"citizen-id:{member_id}"


def default_membership(admitted_on: date | None, official_on: date | None) -> str:
    return "probationary" if admitted_on and not official_on else "official"


def to_out(row: asyncpg.Record, cipher: DataCipher, *, full_citizen_id: bool) -> MemberOut:
    data = {k: row[k] for k in MemberOut.model_fields if k != "citizen_id"}
    citizen = None
    if row["citizen_id_enc"] is not None:
        plain = cipher.decrypt(bytes(row["citizen_id_enc"]), citizen_aad(row["id"]))
        citizen = plain if full_citizen_id else fields.mask_citizen_id(plain)
    return MemberOut(**data, citizen_id=citizen)


async def load(conn: Connection, member_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    row = await repository.get(conn, member_id, lock=lock)
    if row is None:
        raise NotFound(MEMBER_NOT_FOUND)
    return row


def authorize_read(who: Principal, member: asyncpg.Record) -> None:
    if who.member_id == member["id"]:
        return
    authorize(who, READ_ROLES, member["org_path"], not_found=MEMBER_NOT_FOUND)


def authorize_change(who: Principal, member: asyncpg.Record) -> None:
    authorize(who, ADMIN, member["org_path"], not_found=MEMBER_NOT_FOUND)


async def load_cell(conn: Connection, who: Principal, cell_id: UUID) -> asyncpg.Record:
    """A cell the caller administers and that can take members."""
    cell = await orgs_repository.get(conn, cell_id)
    if cell is None:
        raise NotFound(CELL_NOT_FOUND)
    authorize(who, ADMIN, cell["path"])
    if cell["kind"] not in CELL_KINDS:
        raise Unprocessable(
            "Đảng viên chỉ sinh hoạt tại chi bộ (chi bộ trực thuộc hoặc chi bộ "
            "cơ sở), không trực tiếp tại đảng bộ"
        )
    if cell["status"] != "active":
        raise Conflict("Chi bộ đã giải thể hoặc đang tạm dừng hoạt động")
    return cell


def _on_roll(member: asyncpg.Record) -> None:
    if member["status"] not in ON_ROLL:
        raise Conflict("Đảng viên đã thôi sinh hoạt trong hệ thống")


def _member_event_state(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "member_id": row["id"],
        "cell_id": row["cell_id"],
        "org_path": row["org_path"],
        "membership": row["membership"],
        "status": row["status"],
        "revision": row["revision"],
    }


# --------------------------------------------------------------------------------- create/read


async def create_member(
    conn: Connection,
    who: Principal,
    body: MemberCreate,
    *,
    cipher: DataCipher,
    activation_ttl_days: int,
    source: str | None,
    now: datetime,
) -> MemberCreatedOut:
    await orgs_repository.lock_tree(conn, exclusive=False)
    cell = await load_cell(conn, who, body.cell_id)
    if await repository.card_taken(conn, body.card_number):
        raise Conflict("Số thẻ đảng viên đã tồn tại")
    if body.phone and await repository.phone_taken(conn, body.phone):
        raise Conflict("Số điện thoại đã được dùng cho một đảng viên khác")
    member_id = uuid4()
    code = activation.new_code()
    expires = now + timedelta(days=activation_ttl_days)
    member = {
        "id": member_id,
        "card_number": body.card_number,
        "full_name": body.full_name,
        "search_name": fields.fold(body.full_name),
        "date_of_birth": body.date_of_birth,
        "sex": body.sex,
        "phone": body.phone,
        "email": body.email,
        "admitted_on": body.admitted_on,
        "official_on": body.official_on,
        "membership": (
            body.membership.value
            if body.membership
            else default_membership(body.admitted_on, body.official_on)
        ),
        "cell_id": cell["id"],
        "status": "active",
        "citizen_id_enc": (
            cipher.encrypt(body.citizen_id, citizen_aad(member_id)) if body.citizen_id else None
        ),
    }
    try:
        row = await repository.insert(
            conn,
            member,
            org_path=cell["path"],
            activation_digest=activation.digest(code),
            activation_expires_at=expires,
        )
    except repository.UniqueViolation:
        raise Conflict("Số thẻ đảng viên hoặc số điện thoại đã tồn tại") from None
    await outbox.enqueue(
        conn,
        MemberCreated(**_member_event_state(row), occurred_at=now),
        directory.described_row(row, now=now),
    )
    await audit.record(
        conn,
        "members.created",
        actor_id=who.member_id,
        target=str(member_id),
        source=source,
        details={"cell_id": str(cell["id"])},
    )
    out = to_out(row, cipher, full_citizen_id=True)
    return MemberCreatedOut(**out.model_dump(), activation_code=code, activation_expires_at=expires)


async def get_member(
    conn: Connection, who: Principal, member_id: UUID, *, cipher: DataCipher
) -> MemberOut:
    row = await load(conn, member_id)
    authorize_read(who, row)
    return to_out(row, cipher, full_citizen_id=who.can(ADMIN, row["org_path"]))


async def list_memberships(
    conn: Connection, who: Principal, member_id: UUID
) -> Page[MembershipOut]:
    row = await load(conn, member_id)
    authorize_read(who, row)
    rows = await repository.memberships(conn, member_id)
    return Page(items=[MembershipOut.model_validate(dict(r)) for r in rows])


# -------------------------------------------------------------------------------------- update

_REQUIRED = ("card_number", "full_name", "membership", "status")
_EVENT_FIELDS = ("membership", "status")


async def update_member(
    conn: Connection,
    who: Principal,
    member_id: UUID,
    body: MemberPatch,
    *,
    cipher: DataCipher,
    now: datetime,
) -> MemberOut:
    row = await load(conn, member_id, lock=True)
    authorize_change(who, row)
    _on_roll(row)
    sent = body.model_fields_set
    for name in _REQUIRED:
        if name in sent and getattr(body, name) is None:
            raise Unprocessable(f"Trường {name} không được để trống")
    changes: dict[str, Any] = {}
    for name in sent - {"citizen_id"}:
        value = getattr(body, name)
        if hasattr(value, "value"):
            value = value.value
        if value != row[name]:
            changes[name] = value
    if "citizen_id" in sent:
        current = (
            cipher.decrypt(bytes(row["citizen_id_enc"]), citizen_aad(member_id))
            if row["citizen_id_enc"] is not None
            else None
        )
        if body.citizen_id != current:
            changes["citizen_id_enc"] = (
                cipher.encrypt(body.citizen_id, citizen_aad(member_id)) if body.citizen_id else None
            )
    if "full_name" in changes:
        changes["search_name"] = fields.fold(changes["full_name"])
    problems = fields.date_order_problems(
        changes.get("date_of_birth", row["date_of_birth"]),
        changes.get("admitted_on", row["admitted_on"]),
        changes.get("official_on", row["official_on"]),
    )
    if problems:
        raise Unprocessable("; ".join(reason for _, reason in problems))
    if not changes:
        return to_out(row, cipher, full_citizen_id=True)
    if "card_number" in changes and await repository.card_taken(
        conn, changes["card_number"], other_than=member_id
    ):
        raise Conflict("Số thẻ đảng viên đã tồn tại")
    if changes.get("phone") and await repository.phone_taken(
        conn, changes["phone"], other_than=member_id
    ):
        raise Conflict("Số điện thoại đã được dùng cho một đảng viên khác")
    try:
        updated = await repository.update(conn, member_id, changes)
    except repository.UniqueViolation:
        raise Conflict("Số thẻ đảng viên hoặc số điện thoại đã tồn tại") from None
    changed_public = sorted(f for f in _EVENT_FIELDS if f in changes)
    if changed_public:
        await outbox.enqueue(
            conn,
            MemberUpdated(
                **_member_event_state(updated),
                changed_fields=changed_public,
                occurred_at=now,
            ),
        )
    if any(name in changes for name in directory.SHOWN):
        await outbox.enqueue(conn, directory.described_row(updated, now=now))
    return to_out(updated, cipher, full_citizen_id=True)


# ------------------------------------------------------------------------ transfer, deactivate


async def transfer_member(
    conn: Connection,
    who: Principal,
    member_id: UUID,
    body: MemberTransfer,
    *,
    cipher: DataCipher,
    source: str | None,
    now: datetime,
) -> MemberOut:
    await orgs_repository.lock_tree(conn, exclusive=False)
    row = await load(conn, member_id, lock=True)
    authorize_change(who, row)
    to_cell = await load_cell(conn, who, body.to_cell_id)
    _on_roll(row)
    if to_cell["id"] == row["cell_id"]:
        raise Conflict("Đảng viên đang sinh hoạt tại chi bộ này")
    current = await repository.open_membership(conn, member_id)
    if current is not None:
        if body.effective_on < current["started_on"]:
            raise Unprocessable(
                "Ngày chuyển sinh hoạt không được trước ngày bắt đầu sinh hoạt tại chi bộ hiện tại"
            )
        await repository.end_membership(conn, current["id"], body.effective_on, "transferred")
    moved = await repository.transfer(
        conn, member_id, to_cell["id"], to_cell["path"], body.effective_on
    )
    revoked = await grants_service.revoke_for_member(
        conn, member_id, revoked_by=None, keep_over=to_cell["path"], now=now
    )
    await outbox.enqueue(
        conn,
        MemberTransferred(
            member_id=member_id,
            from_cell_id=row["cell_id"],
            from_org_path=row["org_path"],
            to_cell_id=to_cell["id"],
            to_org_path=to_cell["path"],
            effective_on=body.effective_on,
            revision=moved["revision"],
            occurred_at=now,
        ),
        directory.described_row(moved, now=now),
    )
    await audit.record(
        conn,
        "members.transferred",
        actor_id=who.member_id,
        target=str(member_id),
        source=source,
        details={
            "from_cell_id": str(row["cell_id"]),
            "to_cell_id": str(to_cell["id"]),
            "effective_on": body.effective_on.isoformat(),
            "revoked_grants": [str(g["id"]) for g in revoked],
        },
    )
    return to_out(moved, cipher, full_citizen_id=True)


async def deactivate_member(
    conn: Connection,
    who: Principal,
    member_id: UUID,
    body: MemberDeactivate,
    *,
    cipher: DataCipher,
    source: str | None,
    now: datetime,
) -> MemberOut:
    row = await load(conn, member_id, lock=True)
    authorize_change(who, row)
    _on_roll(row)
    status, end_reason = DEACTIVATION[body.reason_code]
    current = await repository.open_membership(conn, member_id)
    if current is not None:
        if body.effective_on < current["started_on"]:
            raise Unprocessable("Ngày hiệu lực không được trước ngày bắt đầu sinh hoạt tại chi bộ")
        await repository.end_membership(conn, current["id"], body.effective_on, end_reason)
    updated = await repository.deactivate(conn, member_id, status.value)
    revoked = await grants_service.revoke_for_member(conn, member_id, revoked_by=None, now=now)
    await outbox.enqueue(
        conn,
        MemberDeactivated(
            member_id=member_id,
            cell_id=updated["cell_id"],
            org_path=updated["org_path"],
            reason_code=body.reason_code,
            effective_on=body.effective_on,
            revision=updated["revision"],
            occurred_at=now,
        ),
        directory.erased(updated, now=now),
    )
    await audit.record(
        conn,
        "members.deactivated",
        actor_id=who.member_id,
        target=str(member_id),
        source=source,
        details={
            "reason_code": body.reason_code.value,
            "effective_on": body.effective_on.isoformat(),
            "revoked_grants": [str(g["id"]) for g in revoked],
        },
    )
    return to_out(updated, cipher, full_citizen_id=True)


# -------------------------------------------------------------------------------------- import


def _rejected(report: importer.Report) -> ImportRejected:
    return ImportRejected(
        f"Có {report.count} lỗi; sửa các dòng được liệt kê rồi gửi lại toàn bộ tệp",
        extensions={"errors": report.sorted(), "error_count": report.count},
    )


@dataclass
class _Batch:
    members: list[tuple[Any, ...]]
    memberships: list[tuple[Any, ...]]
    accounts: list[tuple[Any, ...]]
    events: list[CloudEvent]
    # After every created event: a run of one type is applied in one statement by consumers.
    directory: list[CloudEvent]
    codes: list[ActivationOut]


def _build_batch(
    rows: list[importer.ImportRow],
    cells: dict[str | None, asyncpg.Record],
    cipher: DataCipher,
    expires: datetime,
    *,
    now: datetime,
) -> _Batch:
    """CPU work of an import (ids, encryption, codes, events), run in a worker thread."""
    today = now.astimezone(LOCAL_TZ).date()
    batch = _Batch([], [], [], [], [], [])
    for r in rows:
        v = r.values
        cell = cells[v.get("cell_code")]
        member_id = uuid4()
        membership = v.get("membership") or default_membership(
            v.get("admitted_on"), v.get("official_on")
        )
        citizen = v.get("citizen_id")
        batch.members.append(
            (
                member_id,
                v["card_number"],
                v["full_name"],
                fields.fold(v["full_name"]),
                v.get("date_of_birth"),
                v.get("sex"),
                v.get("phone"),
                v.get("email"),
                v.get("admitted_on"),
                v.get("official_on"),
                membership,
                cell["id"],
                "active",
                cipher.encrypt(citizen, citizen_aad(member_id)) if citizen else None,
            )
        )
        batch.memberships.append((member_id, cell["id"], cell["path"], today))
        code = activation.new_code()
        batch.accounts.append((member_id, activation.digest(code), expires, True))
        batch.codes.append(
            ActivationOut(
                member_id=member_id,
                card_number=v["card_number"],
                full_name=v["full_name"],
                activation_code=code,
            )
        )
        batch.events.append(
            outbox.build(
                MemberCreated(
                    member_id=member_id,
                    cell_id=cell["id"],
                    org_path=cell["path"],
                    membership=membership,
                    status=MemberStatus.ACTIVE,
                    revision=1,
                    occurred_at=now,
                )
            )
        )
        batch.directory.append(
            outbox.build(
                directory.described(
                    member_id=member_id,
                    full_name=v["full_name"],
                    card_number=v["card_number"],
                    cell_id=cell["id"],
                    org_path=cell["path"],
                    revision=1,
                    now=now,
                )
            )
        )
    return batch


async def _resolve_cells(
    conn: Connection,
    who: Principal,
    parsed: importer.Parsed,
    default_cell: asyncpg.Record | None,
) -> dict[str | None, asyncpg.Record]:
    """Cells by code (key None: the ``cell_id`` of the query). Codes that are unknown, closed,
    not a cell, or outside what the caller administers are reported per row, all alike."""
    cells: dict[str | None, asyncpg.Record] = {}
    if default_cell is not None:
        cells[None] = default_cell
    codes = sorted({r.values["cell_code"] for r in parsed.rows if r.values.get("cell_code")})
    if codes:
        for org in await orgs_repository.open_by_codes(conn, codes):
            if (
                org["kind"] in CELL_KINDS
                and org["status"] == "active"
                and who.can(ADMIN, org["path"])
            ):
                cells[org["code"]] = org
    column = parsed.headers.get("cell_code")
    for r in parsed.rows:
        code = r.values.get("cell_code")
        if code and code not in cells:
            parsed.report.add(
                r.row,
                column,
                "Không tìm thấy chi bộ đang hoạt động có mã này trong phạm vi bạn quản trị",
            )
    return cells


async def _check_against_database(conn: Connection, parsed: importer.Parsed) -> None:
    cards = [r.card_number for r in parsed.rows]
    taken = await repository.existing_cards(conn, cards)
    phones = [r.values["phone"] for r in parsed.rows if r.values.get("phone")]
    phones_taken = await repository.existing_phones(conn, phones) if phones else set()
    for r in parsed.rows:
        if r.card_number in taken:
            parsed.report.add(
                r.row, parsed.headers["card_number"], "Số thẻ đảng viên đã có trong hệ thống"
            )
        phone = r.values.get("phone")
        if phone and phone in phones_taken:
            parsed.report.add(
                r.row, parsed.headers["phone"], "Số điện thoại đã được dùng cho một đảng viên khác"
            )


OUTBOX_CHUNK = 5000

_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while an import builds its ~1 million short-lived
    objects (rows, records, events): the collector's repeated full passes over a heap that
    only grows cost more than the work itself (~40 % of parse + build for 60,000 rows).
    Nothing built here forms reference cycles; the collector resumes right after (when the
    last of concurrent imports is done, and only if it was running before)."""
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def _without_gc(work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with _gc_paused():
        return work(*args, **kwargs)


async def authorize_import(
    conn: Connection, who: Principal, cell_id: UUID | None
) -> asyncpg.Record | None:
    """Before the body is read: the target cell (if given) is one the caller administers."""
    if cell_id is not None:
        return await load_cell(conn, who, cell_id)
    if not any(g.role == ADMIN for g in who.grants):
        raise Forbidden("Chỉ quản trị tổ chức được nhập danh sách đảng viên")
    return None


async def import_members(
    conn: Connection,
    who: Principal,
    data: bytes,
    *,
    default_cell: asyncpg.Record | None,
    cipher: DataCipher,
    activation_ttl_days: int,
    source: str | None,
    now: datetime,
) -> ImportResult:
    try:
        text = await asyncio.to_thread(importer.decode, data)
        parsed: importer.Parsed = await asyncio.to_thread(
            _without_gc, importer.parse, text, cell_from_query=default_cell is not None
        )
    except importer.Rejected as exc:
        raise _rejected(exc.report) from None
    # Rows that passed the file's own checks are checked against the database too, so that
    # one report lists every problem.
    await orgs_repository.lock_tree(conn, exclusive=False)
    cells = await _resolve_cells(conn, who, parsed, default_cell)
    await _check_against_database(conn, parsed)
    if parsed.report:
        raise _rejected(parsed.report)

    expires = now + timedelta(days=activation_ttl_days)
    batch: _Batch = await asyncio.to_thread(
        _without_gc, functools.partial(_build_batch, now=now), parsed.rows, cells, cipher, expires
    )
    try:
        await repository.copy_in(conn, batch.members, batch.memberships, batch.accounts)
    except repository.UniqueViolation:
        raise Conflict(
            "Số thẻ đảng viên hoặc số điện thoại vừa được thêm bởi một thao tác "
            "khác; hãy gửi lại tệp"
        ) from None
    events = batch.events + batch.directory
    for i in range(0, len(events), OUTBOX_CHUNK):
        await outbox.enqueue_cloud_events(conn, events[i : i + OUTBOX_CHUNK])
    used = sorted({str(c["id"]) for c in cells.values()})
    await audit.record(
        conn,
        "members.imported",
        actor_id=who.member_id,
        target=used[0] if len(used) == 1 else None,
        source=source,
        details={"count": len(batch.codes), "cell_ids": used[:100], "cells": len(used)},
    )
    return ImportResult(
        imported=len(batch.codes), activation_expires_at=expires, accounts=batch.codes
    )


# --------------------------------------------------------------------------- activation sheets

SHEET_IDS_AUDITED = 1000  # member ids listed in one audit entry (all are counted)


async def record_activation_sheet(
    conn: Connection, who: Principal, body: ActivationSheetPrinted, *, source: str | None
) -> None:
    """An admin prints the activation cards of these members: the print goes to the audit log.
    Only ids reach the server and the log — the codes stay in the admin's page."""
    ids = list(dict.fromkeys(body.member_ids))
    rows = await repository.org_paths(conn, ids)
    if len(rows) != len(ids):
        raise NotFound(MEMBER_NOT_FOUND)
    for row in rows:
        authorize(who, ADMIN, row["org_path"], not_found=MEMBER_NOT_FOUND)
    cells = sorted({str(r["cell_id"]) for r in rows})
    await audit.record(
        conn,
        "members.activation_sheet_printed",
        actor_id=who.member_id,
        target=cells[0] if len(cells) == 1 else None,
        source=source,
        details={
            "count": len(ids),
            "member_ids": [str(i) for i in ids[:SHEET_IDS_AUDITED]],
            "cell_ids": cells[:100],
            "cells": len(cells),
        },
    )


async def reissue_activation_code(
    conn: Connection,
    who: Principal,
    member_id: UUID,
    *,
    activation_ttl_days: int,
    source: str | None,
    now: datetime,
) -> ActivationReissued:
    """A new one-time code for a member who never activated the account (the printed sheet
    was lost: codes are stored hashed, so the old one cannot be shown again). The old code
    stops working."""
    row = await load(conn, member_id, lock=True)
    authorize_change(who, row)
    _on_roll(row)
    code = activation.new_code()
    expires = now + timedelta(days=activation_ttl_days)
    if not await repository.reissue_activation(conn, member_id, activation.digest(code), expires):
        raise Conflict(
            "Tài khoản đã được kích hoạt (đảng viên đã đặt mật khẩu); không cần mã kích hoạt mới"
        )
    await audit.record(
        conn,
        "members.activation_reissued",
        actor_id=who.member_id,
        target=str(member_id),
        source=source,
        details={"cell_id": str(row["cell_id"])},
    )
    return ActivationReissued(
        member_id=member_id,
        card_number=row["card_number"],
        full_name=row["full_name"],
        activation_code=code,
        activation_expires_at=expires,
    )
