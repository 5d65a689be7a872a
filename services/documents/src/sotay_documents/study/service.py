"""Use cases of study tracking: a member's own progress (with DocumentRead events), their
to-study list, and the committee's report of who has studied a document."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sotay_contracts.events.documents import DocumentRead, ReadState
from sotay_kit import outbox
from sotay_kit.auth import Principal
from sotay_kit.db import Connection
from sotay_kit.errors import NotFound
from sotay_kit.pagination import Page, decode_keyset, encode_cursor, key_int, key_time, key_uuid

from ..access import REPORT_ROLES, Scope
from ..library import repository as library_repo
from ..library.schemas import Kind
from ..library.service import visible_or_404
from . import repository as repo
from .schemas import (
    MemberStudy,
    ProgressIn,
    ProgressOut,
    Status,
    StudyReport,
    StudyTotals,
    ToStudyItem,
)

EVENT_STEP = 10  # DocumentRead for progress: at most one per 10 points


async def post_progress(
    conn: Connection, who: Principal, document_id: uuid.UUID, body: ProgressIn, *, now: datetime
) -> ProgressOut:
    if who.cell_id is None or who.org_path is None:
        raise NotFound("Không tìm thấy văn bản")
    # Three round trips inside the request's transaction: what is read (visibility, version,
    # publication), the read recorded (one upsert), the events (when any).
    scope = Scope.of(who)
    target = await repo.reading_target(
        conn, document_id, body.version, scope.ancestors, scope.publisher_roots
    )
    if target is None:
        raise NotFound("Không tìm thấy văn bản")
    if target["version"] is None:
        raise NotFound("Không tìm thấy phiên bản này của văn bản")
    version = target["version"]
    progress = 100 if body.studied else body.progress_percent
    reading = repo.Reading(document_id, version, who.member_id, who.cell_id, who.org_path)
    row = await repo.record(
        conn,
        reading,
        progress=progress,
        studied_at=now if body.studied else None,
        at=now,
        step=EVENT_STEP,
    )
    states: list[tuple[ReadState, int]] = []
    if row["inserted"]:
        states.append((ReadState.OPENED, progress))
        if body.studied:
            states.append((ReadState.STUDIED, 100))
    else:
        new_progress = row["progress_percent"]
        studied_now = row["old_studied_at"] is None and row["studied_at"] is not None
        stepped = new_progress // EVENT_STEP > row["old_last_event"] // EVENT_STEP
        if studied_now:
            states.append((ReadState.STUDIED, new_progress))
        elif stepped:
            states.append((ReadState.PROGRESS, new_progress))
    if states:
        await outbox.enqueue(
            conn,
            *(
                DocumentRead(
                    document_id=document_id,
                    version=version,
                    publication_id=target["publication_id"],
                    member_id=who.member_id,
                    cell_id=who.cell_id,
                    org_path=who.org_path,
                    state=state,
                    progress_percent=p,
                    occurred_at=now,
                )
                for state, p in states
            ),
        )
    return ProgressOut(
        document_id=document_id,
        version=version,
        first_opened_at=row["first_opened_at"],
        last_read_at=row["last_read_at"],
        progress_percent=row["progress_percent"],
        studied_at=row["studied_at"],
    )


async def to_study(
    conn: Connection, who: Principal, *, limit: int, cursor: str | None, now: datetime
) -> Page[ToStudyItem]:
    """What I must study and have not finished, nearest deadline first (none last)."""
    rows = await library_repo.to_study(
        conn, Scope.of(who), who.member_id, after=_to_study_after(cursor), limit=limit + 1
    )
    items = [
        ToStudyItem(
            document_id=r["document_id"],
            title=r["title"],
            number=r["number"],
            kind=Kind(r["kind"]),
            version=r["version"],
            publication_id=r["publication_id"],
            study_deadline=r["study_deadline"],
            overdue=r["study_deadline"] is not None and r["study_deadline"] < now,
            progress_percent=r["progress_percent"] or 0,
            opened=r["first_opened_at"] is not None,
        )
        for r in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(
            [
                last["deadline_key"].isoformat() if last["study_deadline"] else "infinity",
                last["title"],
                str(last["document_id"]),
                last["version"],
            ]
        )
    return Page(items=items, next_cursor=next_cursor)


def _to_study_after(cursor: str | None) -> tuple[datetime, str, uuid.UUID, int] | None:
    """(deadline or "infinity", title, document id, version): the to-study list's keyset."""

    def parse(raw: Any) -> tuple[datetime, str, uuid.UUID, int]:
        deadline, title, document_id, version = raw
        if not isinstance(title, str) or not 1 <= key_int(version) <= 2**31 - 1:
            raise ValueError("cursor fields")
        key = datetime.max.replace(tzinfo=UTC) if deadline == "infinity" else key_time(deadline)
        return key, title, key_uuid(document_id), version

    return decode_keyset(cursor, parse)


async def report(
    conn: Connection,
    who: Principal,
    document_id: uuid.UUID,
    org_id: uuid.UUID,
    *,
    version: int | None,
    status: Status | None,
    limit: int,
    cursor: str | None,
) -> StudyReport:
    doc = await visible_or_404(conn, who, document_id)
    org = await library_repo.org(conn, org_id)
    if org is None or not who.can(REPORT_ROLES, org["path"]):
        raise NotFound("Không tìm thấy tổ chức trong phạm vi của bạn")
    number = version or await repo.report_version(conn, document_id) or doc["current_version"]
    if await library_repo.version(conn, document_id, number) is None:
        raise NotFound("Không tìm thấy phiên bản này của văn bản")
    after = decode_keyset(cursor, key_uuid)
    rows = await repo.report_page(
        conn,
        org_path=org["path"],
        document_id=document_id,
        version=number,
        status=status,
        after=after,
        limit=limit + 1,
    )
    totals = await repo.report_totals(
        conn, org_path=org["path"], document_id=document_id, version=number
    )
    items = [MemberStudy.model_validate(dict(r)) for r in rows[:limit]]
    return StudyReport(
        document_id=document_id,
        version=number,
        org_id=org_id,
        org_path=org["path"],
        quiz=totals["quiz"],
        totals=StudyTotals(**{k: v for k, v in totals.items() if k != "quiz"}),
        items=items,
        next_cursor=encode_cursor(str(rows[limit - 1]["member_id"])) if len(rows) > limit else None,
    )
