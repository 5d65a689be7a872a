"""Use cases of the minutes: read (the stored text, or a draft generated from the meeting),
edit while unsigned, sign (freezes the text, stores its SHA-256, emits
``meetings.minutes.signed.v1``), download as DOCX or Markdown.

Read: the unsigned draft (generated or edited) only those who may edit it — managers, the
chair and the minute-taker; the signed minutes (the official record) everyone who can see the
meeting. Anyone else gets 404 until the minutes are signed. Edit: managers, the chair and the
minute-taker. Sign: managers and the chair, once the meeting is closed (attendance is final).

The generated draft names the reason of an excused absence by its code only, never the member's
free-text note: notes are private to the member and the managers (the roster view), and the
draft becomes the record every invitee reads once signed. A note appears in signed minutes only
if an editor typed it in and the signer signed that text.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime
from uuid import UUID

import asyncpg
from sotay_contracts.events import meetings as ev
from sotay_kit import audit, outbox
from sotay_kit.auth import Principal
from sotay_kit.db import Connection
from sotay_kit.errors import Forbidden
from sotay_kit.ids import new_id

from .. import access, problems
from ..meetings import repository as meetings_repository
from ..meetings.service import final_status
from ..motions import repository as motions_repository
from ..times import local
from . import render, repository
from .schemas import MinutesIn, MinutesOut, MinutesSignIn

log = logging.getLogger("sotay.meetings.minutes")


def sha256_hex(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


async def _meeting(
    conn: Connection, who: Principal, meeting_id: UUID, *, exclusive: bool = False
) -> asyncpg.Record:
    meeting = await meetings_repository.meeting_for_action(conn, meeting_id, exclusive=exclusive)
    if meeting is None:
        raise problems.MeetingNotFound("Không tìm thấy cuộc họp")
    if not access.manages(who, meeting["org_path"], meeting["chair_id"]) and (
        await meetings_repository.invitee(conn, meeting_id, who.member_id) is None
    ):
        raise problems.MeetingNotFound("Không tìm thấy cuộc họp")
    if meeting["status"] == "cancelled":
        raise problems.MeetingCancelled("Cuộc họp đã bị hủy; không có biên bản")
    return meeting


async def generate(conn: Connection, meeting: asyncpg.Record) -> str:
    rows = await meetings_repository.invitees(conn, meeting["id"])
    people = [
        render.Person(
            member_id=r["member_id"],
            standing=r["standing"],
            label=r["full_name"] or r["label"],
            status=r["final_status"] or final_status(r),
            reason=r["attendance_reason"] or r["rsvp_reason"],
        )
        for r in rows
    ]
    names = await meetings_repository.document_names(conn, list(meeting["document_ids"]))
    documents = {k: render.DocumentName(v["number"], v["title"]) for k, v in names.items()}
    motions = [
        render.Motion(
            number=m["number"],
            title=m["title"],
            secret=m["secret"],
            closed=m["status"] == "closed",
            options=[
                (label, v + h)
                for label, v, h in zip(m["options"], m["votes"], m["hands"], strict=True)
            ],
            present=m["present"],
        )
        for m in await motions_repository.of_meeting(conn, meeting["id"])
    ]
    return render.draft(meeting, people, documents, motions)


def _out(meeting_id: UUID, row: asyncpg.Record | None, content: str | None = None) -> MinutesOut:
    if row is None:
        assert content is not None
        return MinutesOut(
            meeting_id=meeting_id,
            minutes_id=None,
            state="generated",
            content=content,
            content_sha256=sha256_hex(content),
            revision=0,
            updated_at=None,
            signed=False,
            signed_by=None,
            signed_at=None,
        )
    signed = row["signed_at"] is not None
    return MinutesOut(
        meeting_id=meeting_id,
        minutes_id=row["id"],
        state="signed" if signed else "edited",
        content=row["content"],
        content_sha256=row["content_sha256"] or sha256_hex(row["content"]),
        revision=row["revision"],
        updated_at=row["updated_at"],
        signed=signed,
        signed_by=row["signed_by"],
        signed_at=row["signed_at"],
    )


async def read(conn: Connection, who: Principal, meeting_id: UUID) -> MinutesOut:
    meeting = await _meeting(conn, who, meeting_id)
    row = await repository.get(conn, meeting_id)
    if row is not None and row["signed_at"] is not None:
        return _out(meeting_id, row)
    if not access.edits_minutes(
        who, meeting["org_path"], meeting["chair_id"], meeting["minute_taker_id"]
    ):
        raise problems.MinutesNotFound("Biên bản chưa được ký")
    if row is not None:
        return _out(meeting_id, row)
    full = await meetings_repository.get_meeting(conn, meeting_id)
    assert full is not None
    return _out(meeting_id, None, await generate(conn, full))


async def edit(
    conn: Connection, who: Principal, meeting_id: UUID, body: MinutesIn, *, now: datetime
) -> MinutesOut:
    meeting = await _meeting(conn, who, meeting_id, exclusive=True)
    if not access.edits_minutes(
        who, meeting["org_path"], meeting["chair_id"], meeting["minute_taker_id"]
    ):
        raise Forbidden("Chỉ bí thư, phó bí thư, chủ trì hoặc thư ký được sửa biên bản")
    current = await repository.get(conn, meeting_id)
    if current is not None and current["signed_at"] is not None:
        raise problems.MinutesSigned("Biên bản đã ký; không thể sửa")
    row = await repository.save(conn, new_id(), meeting_id, body.content, who.member_id, now)
    return _out(meeting_id, row)


async def sign(
    conn: Connection,
    who: Principal,
    meeting_id: UUID,
    body: MinutesSignIn,
    *,
    now: datetime,
    source: str | None = None,
) -> MinutesOut:
    meeting = await _meeting(conn, who, meeting_id, exclusive=True)
    if not access.manages(who, meeting["org_path"], meeting["chair_id"]):
        raise Forbidden("Chỉ bí thư, phó bí thư, cấp ủy cấp trên hoặc chủ trì được ký biên bản")
    if meeting["status"] != "closed":
        raise problems.MeetingNotClosed(
            "Cần kết thúc cuộc họp (chốt điểm danh) trước khi ký biên bản"
        )
    row = await repository.get(conn, meeting_id)
    if row is not None and row["signed_at"] is not None:
        raise problems.MinutesSigned("Biên bản đã được ký")
    if row is None:
        full = await meetings_repository.get_meeting(conn, meeting_id)
        assert full is not None
        row = await repository.save(
            conn, new_id(), meeting_id, await generate(conn, full), who.member_id, now
        )
    digest = sha256_hex(row["content"])
    if body.content_sha256 is not None and body.content_sha256 != digest:
        raise problems.MinutesChanged(
            "Biên bản đã được sửa sau khi bạn đọc; hãy đọc lại trước khi ký",
            extensions={"content_sha256": digest},
        )
    signed = await repository.sign(conn, meeting_id, digest, who.member_id, now)
    await outbox.enqueue(
        conn,
        ev.MinutesSigned(
            meeting_id=meeting_id,
            minutes_id=signed["id"],
            org_id=meeting["org_id"],
            org_path=meeting["org_path"],
            content_sha256=digest,
            signed_by=who.member_id,
            occurred_at=now,
        ),
    )
    await audit.record(
        conn,
        "meetings.minutes_signed",
        actor_id=who.member_id,
        target=str(meeting_id),
        source=source,
        details={"minutes_id": str(signed["id"]), "content_sha256": digest},
    )
    log.info(
        "minutes signed",
        extra={"meeting_id": str(meeting_id), "minutes_id": str(signed["id"]), "sha256": digest},
    )
    return _out(meeting_id, signed)


async def download(
    conn: Connection, who: Principal, meeting_id: UUID, fmt: str
) -> tuple[bytes, str, str]:
    """(body, media type, file name)."""
    minutes = await read(conn, who, meeting_id)
    meeting = await meetings_repository.get_meeting(conn, meeting_id)
    assert meeting is not None
    stem = f"bien-ban-{local(meeting['starts_at']):%Y-%m-%d}-{str(meeting_id)[:8]}"
    if fmt == "md":
        return minutes.content.encode("utf-8"), "text/markdown; charset=utf-8", stem + ".md"
    signed = (
        (minutes.content_sha256, minutes.signed_at)
        if minutes.signed and minutes.signed_at is not None
        else None
    )
    # Rendering is CPU work (≈ 0.1 s for a PDF): off the event loop, so other requests go on.
    if fmt == "pdf":
        body = await asyncio.to_thread(render.to_pdf, minutes.content, signed=signed)
        return body, "application/pdf", stem + ".pdf"
    body = await asyncio.to_thread(render.to_docx, minutes.content, signed=signed)
    media = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return body, media, stem + ".docx"
