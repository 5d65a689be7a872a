"""HTTP routes of the document library: ``/api/v1/documents``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from sotay_kit.app import DbConnection, ReadConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import Conflict, Forbidden, NotFound, Unprocessable, problem_responses
from sotay_kit.pagination import Cursor, Limit, Page
from sotay_kit.text import NoControlMultiline

from ..deps import Now, ObjectStorage, Settings, SourceAddress, State
from ..problems import UPLOAD, DuplicateDocument, StorageUnavailable
from ..uploads import parse_fields, receive_form
from . import service
from .schemas import (
    DocumentMetadata,
    DocumentOut,
    DocumentSummary,
    DocumentTextOut,
    DownloadOut,
    Kind,
    PublicationOut,
    PublishIn,
    RetractIn,
    VersionMetadata,
)

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])

_UPLOAD_DOC = (
    "multipart/form-data: trường tệp `file` (PDF, DOCX, XLSX, PNG, JPEG, WebP; kiểm tra theo "
    "nội dung) và các trường `title`, `kind`, `number`, `issuer`, `issued_on`, `summary`, "
    "`classification` (public | internal), `tags` (lặp lại hoặc phân tách bằng dấu phẩy), "
    "`org_id`."
)


@router.post(
    "",
    response_model=DocumentOut,
    status_code=201,
    description=_UPLOAD_DOC,
    responses=problem_responses(
        *UPLOAD, Forbidden, NotFound, Unprocessable, Conflict, DuplicateDocument
    ),
)
async def upload_document(
    request: Request,
    who: CurrentPrincipal,
    state: State,
    storage: ObjectStorage,
    settings: Settings,
    source: SourceAddress,
) -> DocumentOut:
    # No request transaction here: the body may take minutes to arrive, so the database is
    # touched only once the file is received and checked (one short transaction at the end).
    service.authorize_upload(who)
    async with receive_form(request, settings.max_upload_bytes) as (fields, received):
        meta = parse_fields(DocumentMetadata, fields)
        return await service.upload_document(
            state.pool, storage, who, meta, received, source=source
        )


@router.get("", response_model=Page[DocumentSummary])
async def list_documents(
    who: CurrentPrincipal,
    conn: ReadConnection,  # one search query (a second, fuzzy one only when it finds nothing)
    q: Annotated[
        str | None,
        Query(max_length=200, description="Tìm kiếm, có hoặc không dấu"),
        NoControlMultiline,
    ] = None,
    kind: Kind | None = None,
    issuer: Annotated[str | None, Query(max_length=300), NoControlMultiline] = None,
    year: Annotated[int | None, Query(ge=1930, le=2100)] = None,
    tag: Annotated[str | None, Query(max_length=50), NoControlMultiline] = None,
    unread: Annotated[bool, Query(description="Chỉ văn bản tôi chưa mở")] = False,
    to_study: Annotated[bool, Query(description="Chỉ văn bản tôi phải học tập, chưa xong")] = False,
    bookmarked: bool = False,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[DocumentSummary]:
    return await service.list_documents(
        conn,
        who,
        q=q,
        kind=kind,
        issuer=issuer,
        year=year,
        tag=tag,
        unread=unread,
        to_study=to_study,
        bookmarked=bookmarked,
        limit=limit,
        cursor=cursor,
    )


@router.get("/{document_id}", response_model=DocumentOut, responses=problem_responses(NotFound))
async def get_document(document_id: UUID, who: CurrentPrincipal, conn: DbConnection) -> DocumentOut:
    return await service.get_document(conn, who, document_id)


@router.post(
    "/{document_id}/versions",
    responses=problem_responses(*UPLOAD, Forbidden, NotFound),
    response_model=DocumentOut,
    status_code=201,
    description="multipart/form-data: `file` và `note` (tùy chọn). Phiên bản cũ được giữ lại.",
)
async def upload_version(
    document_id: UUID,
    request: Request,
    who: CurrentPrincipal,
    state: State,
    storage: ObjectStorage,
    settings: Settings,
    source: SourceAddress,
) -> DocumentOut:
    await service.authorize_new_version(state.pool, who, document_id)
    async with receive_form(request, settings.max_upload_bytes) as (fields, received):
        meta = parse_fields(VersionMetadata, fields)
        return await service.upload_version(
            state.pool, storage, who, document_id, meta, received, source=source
        )


@router.get(
    "/{document_id}/file",
    response_model=DownloadOut,
    responses=problem_responses(NotFound, StorageUnavailable),
)
async def download(
    document_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    storage: ObjectStorage,
    settings: Settings,
    source: SourceAddress,
    now: Now,
    version: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> DownloadOut:
    """Một đường dẫn tải tệp có chữ ký, hiệu lực ngắn (mặc định 5 phút)."""
    return await service.download(
        conn, who, storage, settings, document_id, version, source=source, now=now
    )


@router.get(
    "/{document_id}/text",
    responses=problem_responses(NotFound, StorageUnavailable),
    response_model=DocumentTextOut,
    summary="Nội dung văn bản để đọc (tiêu đề mục và đoạn văn, văn bản thuần)",
)
async def read_text(
    document_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    storage: ObjectStorage,
    source: SourceAddress,
    version: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> DocumentTextOut:
    return await service.read_text(conn, who, storage, document_id, version, source=source)


@router.put("/{document_id}/bookmark", status_code=204, responses=problem_responses(NotFound))
async def add_bookmark(document_id: UUID, who: CurrentPrincipal, conn: DbConnection) -> Response:
    await service.bookmark(conn, who, document_id, on=True)
    return Response(status_code=204)


@router.delete("/{document_id}/bookmark", status_code=204, responses=problem_responses(NotFound))
async def remove_bookmark(document_id: UUID, who: CurrentPrincipal, conn: DbConnection) -> Response:
    await service.bookmark(conn, who, document_id, on=False)
    return Response(status_code=204)


@router.post(
    "/{document_id}/publish",
    response_model=PublicationOut,
    status_code=201,
    responses=problem_responses(NotFound, Forbidden, Unprocessable, Conflict),
)
async def publish(
    document_id: UUID, body: PublishIn, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> PublicationOut:
    """Phát hành xuống một hoặc nhiều tổ chức trong phạm vi của người phát hành."""
    return await service.publish(conn, who, document_id, body, now=now)


@router.post(
    "/{document_id}/retract",
    status_code=204,
    responses=problem_responses(NotFound, Forbidden, Conflict),
)
async def retract_all(
    document_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    body: RetractIn | None = None,
) -> Response:
    await service.retract(conn, who, document_id, None, body or RetractIn(), now=now)
    return Response(status_code=204)


@router.post(
    "/{document_id}/publications/{publication_id}/retract",
    status_code=204,
    responses=problem_responses(NotFound, Forbidden, Conflict),
)
async def retract_one(
    document_id: UUID,
    publication_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    body: RetractIn | None = None,
) -> Response:
    await service.retract(conn, who, document_id, publication_id, body or RetractIn(), now=now)
    return Response(status_code=204)
