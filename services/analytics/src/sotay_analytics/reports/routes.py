"""HTTP: ``/api/v1/reports/...`` (JSON by default, ``?format=csv|xlsx`` downloads)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from sotay_kit.app import DbConnection, SourceAddress
from sotay_kit.auth import CurrentPrincipal, Principal
from sotay_kit.db import Connection
from sotay_kit.errors import NotFound, Unprocessable, problem_responses
from starlette.responses import Response

from ..deps import Now, Settings
from ..problems import ReportTooLarge
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

# Every report: the file formats besides JSON, and its problems (an org outside one's reach, a
# bad period, too many rows).
_RESPONSES: dict[int | str, dict[str, object]] = {
    **problem_responses(NotFound, Unprocessable, ReportTooLarge),
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        }
    },
}


@dataclass(frozen=True)
class ReportRequest:
    """What every report endpoint takes: the caller, the node, the clock and the format."""

    who: Principal
    conn: Connection
    now: datetime
    settings: AnalyticsSettings
    source: str
    org_id: UUID | None
    format: Format

    async def answer(self, report: Report) -> ReportOut | Response:
        service.check_rows(len(report.rows), self.settings.report_max_rows)
        await service.audit_access(self.conn, self.who, report, self.format, self.source)
        # Building a file is CPU work: off the event loop, so other requests keep being served.
        if self.format == "csv":
            return await asyncio.to_thread(to_csv, report)
        if self.format == "xlsx":
            return await asyncio.to_thread(to_xlsx, report)
        return to_model(report)


async def _report_request(
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    settings: Settings,
    source: SourceAddress,
    org_id: OrgId = None,
    format: FormatQ = "json",
) -> ReportRequest:
    return ReportRequest(who, conn, now, settings, source, org_id, format)


@dataclass(frozen=True)
class MonthRange:
    """``?from=&to=`` as asked (either may be left out)."""

    from_month: str | None
    to_month: str | None

    def months(self, now: datetime, *, default_months: int = 3) -> service.Period:
        return service.period(self.from_month, self.to_month, now, default_months)


async def _month_range(from_month: FromQ = None, to_month: ToQ = None) -> MonthRange:
    return MonthRange(from_month, to_month)


Asked = Annotated[ReportRequest, Depends(_report_request)]
Months = Annotated[MonthRange, Depends(_month_range)]


@router.get(
    "/document-reach",
    response_model=ReportOut,
    responses=_RESPONSES,
    summary="Văn bản: đã gửi → đã thông báo → đã mở → đã học tập, quá hạn",
)
async def document_reach(
    asked: Asked,
    span: Months,
    document_id: UUID | None = None,
    publication_id: UUID | None = None,
) -> ReportOut | Response:
    months = None
    if span.from_month is not None or span.to_month is not None:
        months = span.months(asked.now, default_months=1)
    report = await service.document_reach(
        asked.conn,
        asked.who,
        org_id=asked.org_id,
        document_id=document_id,
        publication_id=publication_id,
        months=months,
        now=asked.now,
    )
    return await asked.answer(report)


@router.get(
    "/attendance",
    response_model=ReportOut,
    responses=_RESPONSES,
    summary="Sinh hoạt theo tổ chức và tháng: số cuộc họp, đúng kỳ, tỷ lệ tham dự, đủ số lượng",
)
async def attendance(asked: Asked, span: Months) -> ReportOut | Response:
    report = await service.attendance(
        asked.conn, asked.who, org_id=asked.org_id, months=span.months(asked.now), now=asked.now
    )
    return await asked.answer(report)


@router.get(
    "/meetings",
    response_model=ReportOut,
    responses=_RESPONSES,
    summary="Tham dự theo từng cuộc họp đã kết thúc",
)
async def meetings(asked: Asked, span: Months) -> ReportOut | Response:
    report = await service.meetings(
        asked.conn,
        asked.who,
        org_id=asked.org_id,
        months=span.months(asked.now),
        now=asked.now,
        max_rows=asked.settings.report_max_rows,
    )
    return await asked.answer(report)


@router.get(
    "/adoption",
    response_model=ReportOut,
    responses=_RESPONSES,
    summary="Mức độ sử dụng so với mục tiêu (tổ chức, kích hoạt, hoạt động 30 ngày)",
)
async def adoption(asked: Asked) -> ReportOut | Response:
    report = await service.adoption(asked.conn, asked.who, org_id=asked.org_id, now=asked.now)
    return await asked.answer(report)


@router.get(
    "/lagging",
    response_model=ReportOut,
    responses=_RESPONSES,
    summary="Đảng viên vắng không lý do nhiều lần hoặc quá hạn học tập",
)
async def lagging(
    asked: Asked,
    span: Months,
    min_unexcused: Annotated[
        int, Query(ge=1, le=100, description="Vắng không lý do từ bao nhiêu lần")
    ] = 2,
) -> ReportOut | Response:
    report = await service.lagging(
        asked.conn,
        asked.who,
        org_id=asked.org_id,
        months=span.months(asked.now),
        min_unexcused=min_unexcused,
        now=asked.now,
        max_rows=asked.settings.report_max_rows,
    )
    return await asked.answer(report)


@router.get(
    "/grades",
    response_model=ReportOut,
    responses=_RESPONSES,
    summary="Kết quả xếp loại chất lượng đảng viên theo tổ chức và năm",
)
async def grades(
    asked: Asked,
    year: Annotated[
        int | None, Query(ge=2000, le=2100, description="Năm (mặc định: năm nay)")
    ] = None,
) -> ReportOut | Response:
    report = await service.grades(
        asked.conn, asked.who, org_id=asked.org_id, year=year, now=asked.now
    )
    return await asked.answer(report)
