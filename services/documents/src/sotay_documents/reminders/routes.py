"""HTTP route of the study reminders (under ``/api/v1/documents``)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import Conflict, NotFound, Unprocessable, problem_responses

from ..deps import Now, SourceAddress
from . import service
from .schemas import RemindIn, RemindOut

router = APIRouter(prefix="/api/v1/documents", tags=["study"])


@router.post(
    "/{document_id}/publications/{publication_id}/remind",
    response_model=RemindOut,
    responses=problem_responses(NotFound, Conflict, Unprocessable),
)
async def remind(
    document_id: UUID,
    publication_id: UUID,
    body: RemindIn,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    source: SourceAddress,
) -> RemindOut:
    """Nhắc những đảng viên của tổ chức chưa học xong văn bản bắt buộc (mỗi ngày một lần)."""
    return await service.remind(
        conn, who, document_id, publication_id, body, now=now, source=source
    )
