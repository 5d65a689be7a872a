"""HTTP routes of consultations on draft documents: ``/api/v1/documents/consultations``."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import Conflict, Forbidden, NotFound, Unprocessable, problem_responses

from ..deps import Now, ObjectStorage, SourceAddress
from ..library.schemas import DocumentTextOut
from ..problems import ConsultationEnded, StorageUnavailable, UnknownSection
from . import export, service
from .schemas import (
    Anchor,
    CommentEdit,
    CommentIn,
    CommentOut,
    ConsultationCreate,
    ConsultationOut,
    MyCommentOut,
    ResponseIn,
    SummaryOut,
)

router = APIRouter(prefix="/api/v1/documents/consultations", tags=["consultations"])

_MANAGED = (NotFound, Forbidden)
_COMMENT = (NotFound, Forbidden, ConsultationEnded)


@router.get("", response_model=list[ConsultationOut])
async def list_consultations(
    who: CurrentPrincipal, conn: DbConnection, now: Now
) -> list[ConsultationOut]:
    """Các đợt lấy ý kiến gửi tới tôi (theo chi bộ) và các đợt do cấp ủy của tôi tổ chức."""
    return await service.list_consultations(conn, who, now=now)


@router.post(
    "",
    status_code=201,
    response_model=ConsultationOut,
    responses=problem_responses(NotFound, Forbidden, Unprocessable, StorageUnavailable),
)
async def open_consultation(
    body: ConsultationCreate,
    who: CurrentPrincipal,
    conn: DbConnection,
    storage: ObjectStorage,
    now: Now,
    source: SourceAddress,
) -> ConsultationOut:
    """Cấp ủy mở lấy ý kiến góp ý một dự thảo cho một tổ chức (cả cây bên dưới) đến hạn."""
    return await service.open_consultation(conn, who, storage, body, now=now, source=source)


@router.get(
    "/{consultation_id}", response_model=ConsultationOut, responses=problem_responses(NotFound)
)
async def get_consultation(
    consultation_id: UUID, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> ConsultationOut:
    return await service.get(conn, who, consultation_id, now=now)


@router.get(
    "/{consultation_id}/text",
    response_model=DocumentTextOut,
    responses=problem_responses(NotFound, StorageUnavailable),
)
async def draft_text(
    consultation_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    storage: ObjectStorage,
    source: SourceAddress,
) -> DocumentTextOut:
    """Nội dung dự thảo để đọc và góp ý; mỗi tiêu đề mục có mốc (anchor) để gắn góp ý."""
    return await service.draft_text(conn, who, storage, consultation_id, source=source)


@router.post(
    "/{consultation_id}/close",
    response_model=ConsultationOut,
    responses=problem_responses(*_MANAGED, Conflict),
)
async def close_consultation(
    consultation_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    source: SourceAddress,
) -> ConsultationOut:
    """Kết thúc lấy ý kiến (sự kiện chỉ gồm các con số)."""
    return await service.close(conn, who, consultation_id, now=now, source=source)


@router.post(
    "/{consultation_id}/comments",
    status_code=201,
    response_model=MyCommentOut,
    responses=problem_responses(*_COMMENT, UnknownSection),
)
async def add_comment(
    consultation_id: UUID, body: CommentIn, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> MyCommentOut:
    """Góp ý một mục (section) hoặc toàn văn bản, đến hạn góp ý."""
    return await service.add_comment(conn, who, consultation_id, body, now=now)


@router.get(
    "/{consultation_id}/comments/mine",
    response_model=list[MyCommentOut],
    responses=problem_responses(NotFound),
)
async def my_comments(
    consultation_id: UUID, who: CurrentPrincipal, conn: DbConnection
) -> list[MyCommentOut]:
    """Các góp ý của tôi và trả lời của cấp ủy."""
    return await service.my_comments(conn, who, consultation_id)


@router.put(
    "/{consultation_id}/comments/{comment_id}",
    response_model=MyCommentOut,
    responses=problem_responses(*_COMMENT),
)
async def edit_comment(
    consultation_id: UUID,
    comment_id: UUID,
    body: CommentEdit,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
) -> MyCommentOut:
    return await service.edit_comment(conn, who, consultation_id, comment_id, body, now=now)


@router.delete(
    "/{consultation_id}/comments/{comment_id}",
    status_code=204,
    responses=problem_responses(*_COMMENT),
)
async def withdraw_comment(
    consultation_id: UUID, comment_id: UUID, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> Response:
    """Rút góp ý (xóa hẳn), trước hạn góp ý."""
    await service.withdraw_comment(conn, who, consultation_id, comment_id, now=now)
    return Response(status_code=204)


@router.get(
    "/{consultation_id}/comments",
    response_model=list[CommentOut],
    responses=problem_responses(*_MANAGED),
)
async def all_comments(
    consultation_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    source: SourceAddress,
    section: Annotated[Anchor | None, Query()] = None,
    whole: Annotated[bool, Query(description="Chỉ góp ý chung")] = False,
    cell_id: UUID | None = None,
) -> list[CommentOut]:
    """Cấp ủy: mọi góp ý, kèm người góp ý và chi bộ, theo thứ tự mục của dự thảo."""
    return await service.comments(
        conn, who, consultation_id, section=section, whole=whole, cell_id=cell_id, source=source
    )


@router.get(
    "/{consultation_id}/summary",
    response_model=SummaryOut,
    responses=problem_responses(*_MANAGED),
)
async def summary(consultation_id: UUID, who: CurrentPrincipal, conn: DbConnection) -> SummaryOut:
    """Cấp ủy: số góp ý theo mục và theo chi bộ, và theo kết quả xử lý."""
    return await service.summary(conn, who, consultation_id)


@router.put(
    "/{consultation_id}/comments/{comment_id}/response",
    response_model=CommentOut,
    responses=problem_responses(*_MANAGED),
)
async def respond(
    consultation_id: UUID,
    comment_id: UUID,
    body: ResponseIn,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    source: SourceAddress,
) -> CommentOut:
    """Cấp ủy trả lời và ghi kết quả xử lý: tiếp thu / không tiếp thu (nêu lý do) / chưa xử lý."""
    return await service.respond(
        conn, who, consultation_id, comment_id, body, now=now, source=source
    )


@router.get(
    "/{consultation_id}/export",
    response_class=Response,
    responses={
        **problem_responses(*_MANAGED),
        200: {
            "content": {export.XLSX_MEDIA_TYPE: {}, export.DOCX_MEDIA_TYPE: {}},
            "description": "Tệp tổng hợp góp ý",
        },
    },
)
async def export_summary(
    consultation_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    source: SourceAddress,
    format: Annotated[Literal["xlsx", "docx"], Query(description="xlsx hoặc docx")] = "xlsx",
) -> Response:
    """Cấp ủy tải bản tổng hợp góp ý (XLSX hoặc DOCX)."""
    c, listed = await service.for_export(conn, who, consultation_id, format, now=now, source=source)
    build, media = (
        (export.to_xlsx, export.XLSX_MEDIA_TYPE)
        if format == "xlsx"
        else (export.to_docx, export.DOCX_MEDIA_TYPE)
    )
    body = await asyncio.to_thread(build, c, listed)
    name = export.filename(c, format, now)
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
