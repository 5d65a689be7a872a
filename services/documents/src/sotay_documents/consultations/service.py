"""Use cases of consultations on draft documents (lấy ý kiến góp ý dự thảo).

- open: a committee (a publishing role, as the library's publishing) opens a version of a
  document it can see for comments by one org subtree inside its publishing scope, until a
  deadline; the reader view's headings at that moment are the sections comments anchor to;
- comment: an active member whose cell lies in the subtree, per section or on the whole, until
  the deadline and while not closed; they may edit or withdraw their own comment until then;
- the member sees the consultations addressed to them, the draft, and only their own comments
  with the committee's replies; outside the subtree a consultation does not exist (404);
- the consulting committee (a publishing grant covering the committee's org path) sees every
  comment with its author's name and cell, by section and by cell, replies, records a
  disposition (taken into account / not, with a reason / pending), closes and exports.

Comments are personal data: names and texts never leave this service in events or logs.
Opening, closing, exports, reading the comments with their authors and each reply or disposition
are audited like the library's committee actions (ids and counts, never names or texts).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sotay_contracts.events.documents import ConsultationClosed, ConsultationOpened
from sotay_kit import audit, outbox
from sotay_kit.auth import Principal, path_within
from sotay_kit.clock import LOCAL_TZ
from sotay_kit.db import Connection
from sotay_kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from sotay_kit.ids import new_id
from sotay_kit.projections.identity import ACTIVE_STATUSES

from .. import access, problems
from ..access import PUBLISHER_ROLES, Scope
from ..library import reader
from ..library import service as library
from ..library.schemas import DocumentTextOut
from ..storage import Storage
from . import repository as repo
from .schemas import (
    CommentEdit,
    CommentIn,
    CommentOut,
    ConsultationCreate,
    ConsultationOut,
    MyCommentOut,
    OrgCount,
    ResponseIn,
    SectionOut,
    Status,
    SummaryOut,
)

log = logging.getLogger("sotay.documents")

NOT_FOUND = "Không tìm thấy đợt lấy ý kiến"
COMMENT_NOT_FOUND = "Không tìm thấy góp ý"
LIST_LIMIT = 200
MAX_OPEN = timedelta(days=366)  # a deadline further away is a typo (year 2206)


def _not_found() -> NotFound:
    return NotFound(NOT_FOUND)


def can_manage(who: Principal, row: Any) -> bool:
    """The consulting committee, or a publishing grant above it."""
    return who.can(PUBLISHER_ROLES, row["committee_org_path"])


def _in_audience(who: Principal, row: Any) -> bool:
    return who.org_path is not None and path_within(who.org_path, row["org_path"])


def status(row: Any, now: datetime) -> Status:
    if row["closed_at"] is not None:
        return "closed"
    return "open" if now < row["deadline"] else "ended"


async def _visible(conn: Connection, who: Principal, consultation_id: uuid.UUID) -> Any:
    """The consultation if the caller is in its audience or its committee; else 404."""
    row = await repo.get(conn, consultation_id)
    if row is None or not (_in_audience(who, row) or can_manage(who, row)):
        raise _not_found()
    return row


async def _managed(
    conn: Connection, who: Principal, consultation_id: uuid.UUID, *, lock: repo.Lock = None
) -> Any:
    """The consultation for its committee: 404 outside, 403 for a member of its audience."""
    row = await repo.get(conn, consultation_id, lock=lock)
    if row is None or not (_in_audience(who, row) or can_manage(who, row)):
        raise _not_found()
    if not can_manage(who, row):
        raise Forbidden("Chỉ cấp ủy lấy ý kiến được xem và xử lý các góp ý")
    return row


def _sections(row: Any) -> list[dict[str, str]]:
    return list(row["sections"])


def _section_titles(row: Any) -> dict[str, str]:
    return {s["anchor"]: s["title"] for s in _sections(row)}


async def _out(
    conn: Connection, who: Principal, row: Any, now: datetime, mine: int, total: int | None
) -> ConsultationOut:
    manage = can_manage(who, row)
    counts = await repo.by_section(conn, row["id"]) if manage else {}
    st = status(row, now)
    return ConsultationOut(
        id=row["id"],
        document_id=row["document_id"],
        version=row["version"],
        document_title=row["document_title"],
        document_number=row["document_number"],
        title=row["title"],
        purpose=row["purpose"],
        org_id=row["org_id"],
        org_path=row["org_path"],
        org_title=row["org_title"],
        deadline=row["deadline"],
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        status=st,
        sections=[
            SectionOut(
                anchor=s["anchor"],
                title=s["title"],
                comments=counts.get(s["anchor"], 0) if manage else None,
            )
            for s in _sections(row)
        ],
        can_manage=manage,
        can_comment=st == "open" and _in_audience(who, row),
        my_comments=mine,
        comments=total if manage else None,
    )


async def _read(conn: Connection, who: Principal, row: Any, now: datetime) -> ConsultationOut:
    mine = (await repo.count_mine(conn, [row["id"]], who.member_id)).get(row["id"], 0)
    total = (await repo.count_all(conn, [row["id"]])).get(row["id"], 0)
    return await _out(conn, who, row, now, mine, total)


# -- the committee opens and closes ----------------------------------------------------------


async def open_consultation(
    conn: Connection,
    who: Principal,
    storage: Storage,
    body: ConsultationCreate,
    *,
    now: datetime,
    source: str | None,
) -> ConsultationOut:
    scope = Scope.of(who)
    if not scope.is_publisher:
        raise Forbidden("Chỉ cấp ủy được mở lấy ý kiến góp ý dự thảo")
    doc = await library.visible_or_404(conn, who, body.document_id)
    number = body.version or doc["current_version"]
    version = await repo.document_version(conn, body.document_id, number)
    if version is None:
        raise NotFound("Không tìm thấy phiên bản này của văn bản")
    if body.deadline <= now:
        raise Unprocessable("Hạn góp ý phải ở tương lai")
    if body.deadline > now + MAX_OPEN:
        raise Unprocessable("Hạn góp ý không được quá một năm kể từ hôm nay")
    to = await library.addressees(
        conn, who, [body.org_id], separately="chọn một tổ chức trong phạm vi của bạn"
    )
    path = to.paths[0]
    committee = access.publisher_path(who, [path])
    assert committee is not None  # addressees() checked a grant covers it
    text = await library.version_text(conn, storage, version)
    sections = [
        {"anchor": s.anchor, "title": s.title}
        for s in reader.sections(reader.blocks(text, version["content_type"]))
    ]
    consultation_id = new_id()
    await repo.insert(
        conn,
        consultation_id=consultation_id,
        document_id=body.document_id,
        version=number,
        title=body.title,
        purpose=body.purpose or None,
        org_id=body.org_id,
        org_path=path,
        committee_org_path=committee,
        sections=sections,
        deadline=body.deadline,
        opened_by=who.member_id,
        opened_at=now,
    )
    audience = await repo.audience_size(conn, path, ACTIVE_STATUSES)
    await outbox.enqueue(
        conn,
        ConsultationOpened(
            consultation_id=consultation_id,
            document_id=body.document_id,
            version=number,
            org_id=body.org_id,
            org_path=path,
            committee_org_path=committee,
            deadline=body.deadline,
            section_count=len(sections),
            audience_size=audience,
            opened_by=who.member_id,
            occurred_at=now,
            title=body.title,
        ),
    )
    await audit.record(
        conn,
        "documents.consultation_opened",
        actor_id=who.member_id,
        target=str(consultation_id),
        source=source,
        details={"document_id": str(body.document_id), "version": number, "org_path": path},
    )
    log.info("consultation opened", extra={"consultation_id": str(consultation_id)})
    row = await repo.get(conn, consultation_id)
    return await _out(conn, who, row, now, 0, 0)


async def close(
    conn: Connection,
    who: Principal,
    consultation_id: uuid.UUID,
    *,
    now: datetime,
    source: str | None,
) -> ConsultationOut:
    row = await _managed(conn, who, consultation_id, lock="update")
    if row["closed_at"] is not None:
        raise Conflict("Đợt lấy ý kiến đã kết thúc")
    await repo.close(conn, consultation_id, who.member_id, now)
    s = await repo.stats(conn, consultation_id)
    await outbox.enqueue(
        conn,
        ConsultationClosed(
            consultation_id=consultation_id,
            document_id=row["document_id"],
            org_path=row["org_path"],
            contributions=s["total"],
            contributors=s["members"],
            cells=s["cells"],
            accepted=s["accepted"],
            rejected=s["rejected"],
            pending=s["pending"],
            closed_by=who.member_id,
            occurred_at=now,
        ),
    )
    await audit.record(
        conn,
        "documents.consultation_closed",
        actor_id=who.member_id,
        target=str(consultation_id),
        source=source,
        details={"org_path": row["org_path"], "comments": s["total"]},
    )
    return await _read(conn, who, await repo.get(conn, consultation_id), now)


# -- reading ---------------------------------------------------------------------------------


async def list_consultations(
    conn: Connection, who: Principal, *, now: datetime
) -> list[ConsultationOut]:
    scope = Scope.of(who)
    rows = await repo.visible(conn, scope.ancestors, scope.publisher_roots, LIST_LIMIT)
    ids = [r["id"] for r in rows]
    mine = await repo.count_mine(conn, ids, who.member_id)
    totals = await repo.count_all(conn, ids)
    return [
        await _out(conn, who, r, now, mine.get(r["id"], 0), totals.get(r["id"], 0)) for r in rows
    ]


async def get(
    conn: Connection, who: Principal, consultation_id: uuid.UUID, *, now: datetime
) -> ConsultationOut:
    return await _read(conn, who, await _visible(conn, who, consultation_id), now)


async def draft_text(
    conn: Connection,
    who: Principal,
    storage: Storage,
    consultation_id: uuid.UUID,
    *,
    source: str | None,
) -> DocumentTextOut:
    """The draft's reader view, headings carrying the anchors comments attach to. Reading an
    internal draft is audited like the library's reader view."""
    row = await _visible(conn, who, consultation_id)
    version = await repo.document_version(conn, row["document_id"], row["version"])
    assert version is not None  # a foreign key
    if row["classification"] != "public":
        await audit.record(
            conn,
            "documents.text_read",
            actor_id=who.member_id,
            target=str(row["document_id"]),
            source=source,
            details={"version": row["version"], "consultation_id": str(consultation_id)},
        )
    doc = {
        "id": row["document_id"],
        "title": row["document_title"],
        "number": row["document_number"],
    }
    return library.text_out(doc, version, await library.version_text(conn, storage, version))


# -- members comment -----------------------------------------------------------------------


def _mine_out(k: Any, titles: dict[str, str]) -> MyCommentOut:
    return MyCommentOut(
        id=k["id"],
        section=k["section"],
        section_title=titles.get(k["section"]) if k["section"] else None,
        text=k["body"],
        created_at=k["created_at"],
        updated_at=k["updated_at"],
        reply=k["reply"],
        replied_at=k["replied_at"],
        disposition=k["disposition"],
        disposition_reason=k["disposition_reason"],
    )


def _require_open(row: Any, now: datetime) -> None:
    st = status(row, now)
    if st == "closed":
        raise problems.ConsultationEnded("Đợt lấy ý kiến đã kết thúc, không nhận thêm góp ý")
    if st == "ended":
        raise problems.ConsultationEnded(
            "Đã hết hạn góp ý (hạn: "
            + row["deadline"].astimezone(LOCAL_TZ).strftime("%H:%M ngày %d/%m/%Y")
            + ")"
        )


async def _commenter(
    conn: Connection, who: Principal, consultation_id: uuid.UUID
) -> tuple[Any, Any]:
    row = await repo.get(conn, consultation_id, lock="share")
    if row is None or not (_in_audience(who, row) or can_manage(who, row)):
        raise _not_found()
    member = await repo.member(conn, who.member_id)
    if (
        not _in_audience(who, row)
        or member is None
        or member["status"] not in ACTIVE_STATUSES
        or not path_within(member["org_path"], row["org_path"])
    ):
        raise Forbidden("Chỉ đảng viên đang sinh hoạt trong phạm vi lấy ý kiến được góp ý")
    return row, member


async def add_comment(
    conn: Connection, who: Principal, consultation_id: uuid.UUID, body: CommentIn, *, now: datetime
) -> MyCommentOut:
    row, member = await _commenter(conn, who, consultation_id)
    _require_open(row, now)
    titles = _section_titles(row)
    if body.section is not None and body.section not in titles:
        raise problems.UnknownSection(
            "Mục được góp ý không có trong dự thảo", extensions={"section": body.section}
        )
    comment_id = new_id()
    await repo.insert_comment(
        conn,
        comment_id=comment_id,
        consultation_id=consultation_id,
        member_id=who.member_id,
        cell_id=member["cell_id"],
        cell_path=member["org_path"],
        section=body.section,
        body=body.text,
        at=now,
    )
    k = await repo.comment(conn, consultation_id, comment_id)
    return _mine_out(k, titles)


async def _own(
    conn: Connection,
    who: Principal,
    consultation_id: uuid.UUID,
    comment_id: uuid.UUID,
    now: datetime,
) -> tuple[Any, Any]:
    row, _ = await _commenter(conn, who, consultation_id)
    k = await repo.comment(conn, consultation_id, comment_id, lock=True)
    if k is None or k["member_id"] != who.member_id:
        raise NotFound(COMMENT_NOT_FOUND)
    _require_open(row, now)
    return row, k


async def edit_comment(
    conn: Connection,
    who: Principal,
    consultation_id: uuid.UUID,
    comment_id: uuid.UUID,
    body: CommentEdit,
    *,
    now: datetime,
) -> MyCommentOut:
    row, _ = await _own(conn, who, consultation_id, comment_id, now)
    await repo.edit_comment(conn, comment_id, body.text, now)
    k = await repo.comment(conn, consultation_id, comment_id)
    return _mine_out(k, _section_titles(row))


async def withdraw_comment(
    conn: Connection,
    who: Principal,
    consultation_id: uuid.UUID,
    comment_id: uuid.UUID,
    *,
    now: datetime,
) -> None:
    """Withdrawing deletes the comment: nothing of it is kept."""
    await _own(conn, who, consultation_id, comment_id, now)
    await repo.delete_comment(conn, comment_id)


async def my_comments(
    conn: Connection, who: Principal, consultation_id: uuid.UUID
) -> list[MyCommentOut]:
    row = await _visible(conn, who, consultation_id)
    titles = _section_titles(row)
    return [
        _mine_out(k, titles) for k in await repo.my_comments(conn, consultation_id, who.member_id)
    ]


# -- the committee's view ------------------------------------------------------------------


def _section_order(row: Any) -> dict[str | None, int]:
    order: dict[str | None, int] = {None: 0}
    for i, s in enumerate(_sections(row), start=1):
        order[s["anchor"]] = i
    return order


def comment_out(k: Any, titles: dict[str, str]) -> CommentOut:
    return CommentOut(
        **_mine_out(k, titles).model_dump(),
        member_id=k["member_id"],
        author_name=k["full_name"],
        card_number=k["card_number"],
        cell_id=k["cell_id"],
        cell_title=k["cell_title"],
    )


async def _listed(
    conn: Connection,
    row: Any,
    *,
    section: str | None = None,
    whole: bool = False,
    cell_id: uuid.UUID | None = None,
) -> list[CommentOut]:
    consultation_id = row["id"]
    titles = _section_titles(row)
    order = _section_order(row)
    rows = await repo.all_comments(
        conn, consultation_id, section=section, whole=whole, cell_id=cell_id
    )
    rows = sorted(rows, key=lambda k: order.get(k["section"], len(order)))
    return [comment_out(k, titles) for k in rows]


async def comments(
    conn: Connection,
    who: Principal,
    consultation_id: uuid.UUID,
    *,
    section: str | None,
    whole: bool,
    cell_id: uuid.UUID | None,
    source: str | None,
) -> list[CommentOut]:
    """Every comment with its author's name, in the draft's order of sections (those on the
    whole first), then by time. Reading who wrote what is audited (the filter and the count,
    no names, no texts)."""
    row = await _managed(conn, who, consultation_id)
    listed = await _listed(conn, row, section=section, whole=whole, cell_id=cell_id)
    details: dict[str, Any] = {"comments": len(listed)}
    if section is not None:
        details["section"] = section
    if whole:
        details["whole"] = True
    if cell_id is not None:
        details["cell_id"] = str(cell_id)
    await audit.record(
        conn,
        "documents.consultation_comments_read",
        actor_id=who.member_id,
        target=str(consultation_id),
        source=source,
        details=details,
    )
    return listed


async def summary(conn: Connection, who: Principal, consultation_id: uuid.UUID) -> SummaryOut:
    row = await _managed(conn, who, consultation_id)
    s = await repo.stats(conn, consultation_id)
    counts = await repo.by_section(conn, consultation_id)
    return SummaryOut(
        total=s["total"],
        members=s["members"],
        by_section=[
            SectionOut(anchor=x["anchor"], title=x["title"], comments=counts.get(x["anchor"], 0))
            for x in _sections(row)
        ],
        whole=counts.get(None, 0),
        by_org=[OrgCount(**dict(r)) for r in await repo.by_org(conn, consultation_id)],
        accepted=s["accepted"],
        rejected=s["rejected"],
        pending=s["pending"],
    )


async def respond(
    conn: Connection,
    who: Principal,
    consultation_id: uuid.UUID,
    comment_id: uuid.UUID,
    body: ResponseIn,
    *,
    now: datetime,
    source: str | None,
) -> CommentOut:
    """Reply and disposition; allowed after the deadline and after closing (the committee
    deals with the comments then). Audited: the comment, the disposition and whether there is
    a reply and a reason, never their text."""
    row = await _managed(conn, who, consultation_id)
    if await repo.comment(conn, consultation_id, comment_id, lock=True) is None:
        raise NotFound(COMMENT_NOT_FOUND)
    await repo.respond(
        conn,
        comment_id,
        reply=body.reply or None,
        disposition=body.disposition,
        reason=(body.reason or None) if body.disposition == "rejected" else None,
        by=who.member_id,
        at=now,
    )
    await audit.record(
        conn,
        "documents.consultation_comment_answered",
        actor_id=who.member_id,
        target=str(consultation_id),
        source=source,
        details={
            "comment_id": str(comment_id),
            "disposition": body.disposition,
            "replied": bool(body.reply),
            "reasoned": bool(body.reason) and body.disposition == "rejected",
        },
    )
    [k] = await repo.all_comments(conn, consultation_id, comment_id=comment_id)
    return comment_out(k, _section_titles(row))


# -- export ----------------------------------------------------------------------------------


async def for_export(
    conn: Connection,
    who: Principal,
    consultation_id: uuid.UUID,
    fmt: str,
    *,
    now: datetime,
    source: str | None,
) -> tuple[ConsultationOut, list[CommentOut]]:
    """The consultation and its comments for a summary file; the export is audited."""
    row = await _managed(conn, who, consultation_id)
    out = await _read(conn, who, row, now)
    listed = await _listed(conn, row)
    await audit.record(
        conn,
        "documents.consultation_exported",
        actor_id=who.member_id,
        target=str(consultation_id),
        source=source,
        details={"format": fmt, "comments": len(listed)},
    )
    return out, listed
