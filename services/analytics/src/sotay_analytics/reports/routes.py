"""HTTP: ``/api/v1/reports/...`` (JSON by default, ``?format=csv|xlsx`` downloads)."""

from __future__ import annotations

import asyncio
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from sotay_kit.app import DbConnection, SourceAddress
from sotay_kit.auth import CurrentPrincipal, Principal
from sotay_kit.db import Connection
from starlette.responses import Response

from ..deps import Now, Settings
from ..settings import AnalyticsSettings
from . import service
from .export import to_csv, to_model, to_xlsx
from .schemas import Format, ReportOut
from .service import Report

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


OrgId = Annotated[
    UUID | None,
    Query(description="Report node (default: the caller's widest report subtree)"),
]
FormatQ = Annotated[Format, Query(description="json (default), csv or xlsx")]
FromQ = Annotated[str | None, Query(alias="from", description="First month, YYYY-MM (Hà Nội time)")]
ToQ = Annotated[str | None, Query(alias="to", description="Last month, YYYY-MM (included)")]

_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        }
    }
}


async def _answer(
    report: Report,
    fmt: Format,
    settings: AnalyticsSettings,
    conn: Connection,
    who: Principal,
    source: str,
) -> ReportOut | Response:
    service.check_rows(len(report.rows), settings.report_max_rows)
    await service.audit_access(conn, who, report, fmt, source)
    # Building a file is CPU work: off the event loop, so other requests keep being served.
    if fmt == "csv":
        return await asyncio.to_thread(to_csv, report)
    if fmt == "xlsx":
        return await asyncio.to_thread(to_xlsx, report)
    return to_model(report)


@router.get(
    "/document-reach",
    response_model=ReportOut,
    responses=_RESPONSES,
    summary="Văn bản: đã gửi → đã thông báo → đã mở → đã học tập, quá hạn",
)
async def document_reach(
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    settings: Settings,
    source: SourceAddress,
    org_id: OrgId = None,
    document_id: UUID | None = None,
    publication_id: UUID | None = None,
    from_month: FromQ = None,
    to_month: ToQ = None,
    format: FormatQ = "json",
) -> ReportOut | Response:
    months = None
    if from_month is not None or to_month is not None:
        months = service.period(from_month, to_month, now, default_months=1)
    report = await service.document_reach(
        conn,
        who,
        org_id=org_id,
        document_id=document_id,
        publication_id=publication_id,
        months=months,
        now=now,
    )
    return await _answer(report, format, settings, conn, who, source)


@router.get(
    "/attendance",
    response_model=ReportOut,
    responses=_RESPONSES,
    summary="Sinh hoạt theo tổ chức và tháng: số cuộc họp, đúng kỳ, tỷ lệ tham dự, đủ số lượng",
)
async def attendance(
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    settings: Settings,
    source: SourceAddress,
    org_id: OrgId = None,
    from_month: FromQ = None,
    to_month: ToQ = None,
    format: FormatQ = "json",
) -> ReportOut | Response:
    months = service.period(from_month, to_month, now)
    report = await service.attendance(conn, who, org_id=org_id, months=months, now=now)
    return await _answer(report, format, settings, conn, who, source)


@router.get(
    "/meetings",
    response_model=ReportOut,
    responses=_RESPONSES,
    summary="Tham dự theo từng cuộc họp đã kết thúc",
)
async def meetings(
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    settings: Settings,
    source: SourceAddress,
    org_id: OrgId = None,
    from_month: FromQ = None,
    to_month: ToQ = None,
    format: FormatQ = "json",
) -> ReportOut | Response:
    months = service.period(from_month, to_month, now)
    report = await service.meetings(
        conn, who, org_id=org_id, months=months, now=now, max_rows=settings.report_max_rows
    )
    return await _answer(report, format, settings, conn, who, source)


@router.get(
    "/adoption",
    response_model=ReportOut,
    responses=_RESPONSES,
    summary="Mức độ sử dụng so với mục tiêu (tổ chức, kích hoạt, hoạt động 30 ngày)",
)
async def adoption(
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    settings: Settings,
    source: SourceAddress,
    org_id: OrgId = None,
    format: FormatQ = "json",
) -> ReportOut | Response:
    report = await service.adoption(conn, who, org_id=org_id, now=now)
    return await _answer(report, format, settings, conn, who, source)


@router.get(
    "/lagging",
    response_model=ReportOut,
    responses=_RESPONSES,
    summary="Đảng viên vắng không lý do nhiều lần hoặc quá hạn học tập",
)
async def lagging(
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    settings: Settings,
    source: SourceAddress,
    org_id: OrgId = None,
    from_month: FromQ = None,
    to_month: ToQ = None,
    min_unexcused: Annotated[
        int, Query(ge=1, le=100, description="Vắng không lý do từ bao nhiêu lần")
    ] = 2,
    format: FormatQ = "json",
) -> ReportOut | Response:
    months = service.period(from_month, to_month, now)
    report = await service.lagging(
        conn,
        who,
        org_id=org_id,
        months=months,
        min_unexcused=min_unexcused,
        now=now,
        max_rows=settings.report_max_rows,
    )
    return await _answer(report, format, settings, conn, who, source)
