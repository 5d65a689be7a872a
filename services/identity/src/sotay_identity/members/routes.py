"""HTTP routes of members: ``/api/v1/members`` (create, import, read, update, transfer,
deactivate, membership history)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncGenerator
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
    problem_responses,
)
from sotay_kit.pagination import Page
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from ..deps import Cipher, Now, Settings, SourceAddress
from ..problems import ImportRejected
from . import importer, service
from .schemas import (
    ActivationReissued,
    ActivationSheetPrinted,
    ImportResult,
    MemberCreate,
    MemberCreated,
    MemberDeactivate,
    MemberOut,
    MemberPatch,
    MembershipOut,
    MemberTransfer,
)

router = APIRouter(prefix="/api/v1/members", tags=["members"])

NO_STORE = {"Cache-Control": "no-store"}  # responses carrying activation codes
CSV_MEDIA_TYPES = frozenset(
    {
        "",
        "text/csv",
        "application/csv",
        "text/comma-separated-values",
        "text/plain",
        "application/vnd.ms-excel",
        "application/octet-stream",
    }
)
MULTIPART_OVERHEAD = 64 * 1024
_TOO_LARGE = f"Tệp vượt quá {importer.MAX_BYTES // (1024 * 1024)} MB"


@router.post(
    "",
    response_model=MemberCreated,
    status_code=201,
    responses=problem_responses(Forbidden, NotFound, Unprocessable, Conflict),
)
async def create_member(
    body: MemberCreate,
    who: CurrentPrincipal,
    conn: DbConnection,
    cipher: Cipher,
    settings: Settings,
    source: SourceAddress,
    response: Response,
    now: Now,
) -> MemberCreated:
    """Creates the member, their membership in the cell and an account with a one-time
    activation code, returned only in this response."""
    response.headers.update(NO_STORE)
    return await service.create_member(
        conn,
        who,
        body,
        cipher=cipher,
        activation_ttl_days=settings.activation_code_ttl_days,
        source=source,
        now=now,
    )


async def _capped(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(_TOO_LARGE)
        yield chunk


async def read_upload(request: Request) -> bytes:
    """The CSV bytes of a raw ``text/csv`` body or of the multipart field ``file``, read as a
    stream and cut off past the size limit."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > importer.MAX_BYTES + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(_TOO_LARGE)
    if media == "multipart/form-data":
        parser = MultiPartParser(
            request.headers,
            _capped(request, importer.MAX_BYTES + MULTIPART_OVERHEAD),
            max_files=1,
            max_fields=10,
        )
        try:
            form = await parser.parse()
        except MultiPartException as exc:
            raise BadRequest(f"Dữ liệu multipart không hợp lệ: {exc.message}") from None
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise BadRequest("Thiếu tệp CSV trong trường 'file'")
            data = await upload.read(importer.MAX_BYTES + 1)
        finally:
            await form.close()
        if len(data) > importer.MAX_BYTES:
            raise PayloadTooLarge(_TOO_LARGE)
        return data
    if media in CSV_MEDIA_TYPES:
        buffer = bytearray()
        async for chunk in _capped(request, importer.MAX_BYTES):
            buffer += chunk
        return bytes(buffer)
    raise UnsupportedMediaType(
        "Gửi tệp CSV với Content-Type text/csv, hoặc multipart/form-data với trường 'file'"
    )


def _codes_csv(result: ImportResult) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Số thẻ đảng viên", "Họ và tên", "Mã kích hoạt", "member_id"])
    for a in result.accounts:
        writer.writerow([a.card_number, a.full_name, a.activation_code, str(a.member_id)])
    # BOM: Excel opens the file as UTF-8 only with it.
    return ("\ufeff" + out.getvalue()).encode()


@router.post(
    "/import",
    response_model=ImportResult,
    status_code=201,
    responses={
        201: {
            "content": {"text/csv": {}},
            "description": "Đã nhập; mã kích hoạt chỉ trả về một lần",
        },
        **problem_responses(
            BadRequest, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, ImportRejected
        ),
    },
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            }
        }
    },
)
async def import_members(
    request: Request,
    who: CurrentPrincipal,
    conn: DbConnection,
    cipher: Cipher,
    settings: Settings,
    source: SourceAddress,
    now: Now,
    cell_id: Annotated[
        UUID | None, Query(description="Chi bộ nhận tất cả các dòng không có cột Mã chi bộ")
    ] = None,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Response | ImportResult:
    """Bulk import from CSV (UTF-8): validates every row, imports all or nothing, creates an
    account with a one-time activation code per member and returns the codes once."""
    default_cell = await service.authorize_import(conn, who, cell_id)
    data = await read_upload(request)
    result = await service.import_members(
        conn,
        who,
        data,
        default_cell=default_cell,
        cipher=cipher,
        activation_ttl_days=settings.activation_code_ttl_days,
        source=source,
        now=now,
    )
    if output == "csv":
        return Response(
            _codes_csv(result),
            status_code=201,
            media_type="text/csv; charset=utf-8",
            headers={**NO_STORE, "Content-Disposition": 'attachment; filename="ma-kich-hoat.csv"'},
        )
    return Response(
        result.model_dump_json().encode(),
        status_code=201,
        media_type="application/json",
        headers=NO_STORE,
    )


@router.post(
    "/activation-sheets",
    status_code=204,
    responses=problem_responses(Forbidden, NotFound),
    summary="Ghi nhật ký việc in phiếu kích hoạt",
)
async def activation_sheet_printed(
    body: ActivationSheetPrinted,
    who: CurrentPrincipal,
    conn: DbConnection,
    source: SourceAddress,
) -> Response:
    """Called by the admin's page when it prints the activation cards of these members; the
    print is recorded in the audit log (member ids only — the codes never leave the page)."""
    await service.record_activation_sheet(conn, who, body, source=source)
    return Response(status_code=204)


@router.get(
    "/{member_id}", response_model=MemberOut, responses=problem_responses(Forbidden, NotFound)
)
async def get_member(
    member_id: UUID, who: CurrentPrincipal, conn: DbConnection, cipher: Cipher
) -> MemberOut:
    """Số CCCD is shown in full only to an org admin of the member's cell."""
    return await service.get_member(conn, who, member_id, cipher=cipher)


@router.get(
    "/{member_id}/memberships",
    response_model=Page[MembershipOut],
    responses=problem_responses(Forbidden, NotFound),
)
async def list_memberships(
    member_id: UUID, who: CurrentPrincipal, conn: DbConnection
) -> Page[MembershipOut]:
    """Lịch sử sinh hoạt: one row per cell, the open one last."""
    return await service.list_memberships(conn, who, member_id)


@router.patch(
    "/{member_id}",
    response_model=MemberOut,
    responses=problem_responses(Forbidden, NotFound, Unprocessable, Conflict),
)
async def update_member(
    member_id: UUID,
    body: MemberPatch,
    who: CurrentPrincipal,
    conn: DbConnection,
    cipher: Cipher,
    now: Now,
) -> MemberOut:
    return await service.update_member(conn, who, member_id, body, cipher=cipher, now=now)


@router.post(
    "/{member_id}/transfer",
    response_model=MemberOut,
    responses=problem_responses(Forbidden, NotFound, Unprocessable, Conflict),
)
async def transfer_member(
    member_id: UUID,
    body: MemberTransfer,
    who: CurrentPrincipal,
    conn: DbConnection,
    cipher: Cipher,
    source: SourceAddress,
    now: Now,
) -> MemberOut:
    """Chuyển sinh hoạt đảng: closes the current membership, opens one in the new cell."""
    return await service.transfer_member(
        conn, who, member_id, body, cipher=cipher, source=source, now=now
    )


@router.post(
    "/{member_id}/deactivate",
    response_model=MemberOut,
    responses=problem_responses(Forbidden, NotFound, Unprocessable, Conflict),
)
async def deactivate_member(
    member_id: UUID,
    body: MemberDeactivate,
    who: CurrentPrincipal,
    conn: DbConnection,
    cipher: Cipher,
    source: SourceAddress,
    now: Now,
) -> MemberOut:
    return await service.deactivate_member(
        conn, who, member_id, body, cipher=cipher, source=source, now=now
    )


@router.post(
    "/{member_id}/activation-code",
    response_model=ActivationReissued,
    responses=problem_responses(Forbidden, NotFound, Conflict),
    summary="Cấp lại mã kích hoạt",
)
async def reissue_activation_code(
    member_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    settings: Settings,
    source: SourceAddress,
    response: Response,
    now: Now,
) -> ActivationReissued:
    """A new one-time code for an account never activated; the previous code stops working.
    Returned only in this response."""
    response.headers.update(NO_STORE)
    return await service.reissue_activation_code(
        conn,
        who,
        member_id,
        activation_ttl_days=settings.activation_code_ttl_days,
        source=source,
        now=now,
    )
