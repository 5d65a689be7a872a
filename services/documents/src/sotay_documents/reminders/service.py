"""Remind the members of a cell who have not studied a required publication.

Asked by the cell's secretary or deputy (or a committee member above the cell), for an org the
publication reaches; once per publication, org and Vietnam's day (a second ask that day
changes nothing and says so). The request is audited and becomes a
``documents.study.reminder_requested.v1`` event naming no member; notify writes the reminders to
the members of the org who have not studied it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sotay_contracts.events.documents import StudyReminderRequested
from sotay_kit import audit, outbox
from sotay_kit.auth import Principal, path_within
from sotay_kit.clock import LOCAL_TZ
from sotay_kit.db import Connection
from sotay_kit.errors import Conflict, NotFound, Unprocessable

from ..library import repository as library_repo
from ..library.service import visible_or_404
from ..study import repository as study_repo
from . import repository as repo
from .schemas import RemindIn, RemindOut

log = logging.getLogger("sotay.documents.reminders")

REMIND_ROLES = ("cell_secretary", "cell_deputy", "committee_member")


async def remind(
    conn: Connection,
    who: Principal,
    document_id: uuid.UUID,
    publication_id: uuid.UUID,
    body: RemindIn,
    *,
    now: datetime,
    source: str,
) -> RemindOut:
    await visible_or_404(conn, who, document_id)
    pub = await repo.publication(conn, document_id, publication_id)
    if pub is None:
        raise NotFound("Không tìm thấy đợt phát hành này của văn bản")
    org = await library_repo.org(conn, body.org_id)
    if org is None or not who.can(REMIND_ROLES, org["path"]):
        raise NotFound("Không tìm thấy tổ chức trong phạm vi của bạn")
    if not any(path_within(org["path"], p) for p in pub["org_paths"]):
        raise NotFound("Văn bản không được phát hành tới tổ chức này")
    if pub["retracted_at"] is not None:
        raise Conflict("Văn bản đã bị thu hồi; không nhắc học tập")
    if not pub["study_required"]:
        raise Unprocessable("Chỉ nhắc học tập với văn bản bắt buộc học tập")

    day = now.astimezone(LOCAL_TZ).date()
    before = await repo.existing(conn, publication_id, body.org_id, day)
    if before is not None:
        return RemindOut(
            publication_id=publication_id,
            org_id=body.org_id,
            day=day,
            pending=before["pending"],
            already_sent_today=True,
            requested_at=before["requested_at"],
        )
    totals = await study_repo.report_totals(
        conn, org_path=org["path"], document_id=document_id, version=pub["version"]
    )
    pending = int(totals["members"]) - int(totals["studied"])
    if pending and not await repo.record(
        conn,
        publication_id=publication_id,
        org_id=body.org_id,
        day=day,
        requested_by=who.member_id,
        requested_at=now,
        pending=pending,
    ):
        # A concurrent ask won the day's slot.
        raise Conflict("Hôm nay tổ chức này vừa được nhắc học tập văn bản này")
    if pending:
        await outbox.enqueue(
            conn,
            StudyReminderRequested(
                document_id=document_id,
                version=pub["version"],
                publication_id=publication_id,
                org_id=body.org_id,
                org_path=org["path"],
                day=day,
                requested_by=who.member_id,
                occurred_at=now,
            ),
        )
        await audit.record(
            conn,
            "documents.study_reminder_requested",
            actor_id=who.member_id,
            target=str(publication_id),
            source=source,
            details={"document_id": str(document_id), "org_path": org["path"], "pending": pending},
        )
        log.info(
            "study reminder requested",
            extra={"publication_id": str(publication_id), "pending": pending},
        )
    return RemindOut(
        publication_id=publication_id,
        org_id=body.org_id,
        day=day,
        pending=pending,
        already_sent_today=False,
        requested_at=now,
    )
