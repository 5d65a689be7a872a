"""A report as JSON, CSV (UTF-8 with BOM, so Excel reads the Vietnamese right) or XLSX."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from starlette.responses import Response

from .schemas import ColumnOut, ReportOut
from .service import Column, Report

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOTAL_LABEL = "Tổng cộng"


def to_model(report: Report) -> ReportOut:
    return ReportOut(
        report=report.report,
        title=report.title,
        scope=report.scope,
        level=report.level,
        org=report.org,
        parameters=report.parameters,
        columns=[ColumnOut(key=c.key, label=c.label, kind=c.kind) for c in report.columns],
        rows=report.rows,
        total=report.total,
        generated_at=report.generated_at,
        **report.extra,
    )


def _cell(column: Column, value: Any) -> Any:
    if value is None:
        return ""
    if column.kind == "bool":
        return "Có" if value else "Không"
    return value


def _table(report: Report) -> list[list[Any]]:
    header = [c.label for c in report.columns]
    body = [[_cell(c, row.get(c.key)) for c in report.columns] for row in report.rows]
    if report.total is not None:
        total = [_cell(c, report.total.get(c.key)) for c in report.columns]
        total[0] = TOTAL_LABEL
        body.append(total)
    return [header, *body]


def _filename(report: Report, ext: str) -> str:
    stamp = report.generated_at.strftime("%Y%m%d")
    return f"bao-cao-{report.report}-{stamp}.{ext}"


def _nfc(value: Any) -> Any:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def to_csv(report: Report) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for line in _table(report):
        writer.writerow([_nfc(v) for v in line])
    body = "\ufeff" + out.getvalue()
    return Response(
        body.encode("utf-8"),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{_filename(report, "csv")}"'},
    )


def to_xlsx(report: Report) -> Response:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = report.title[:31]
    table = _table(report)
    for line in table:
        ws.append([_nfc(v) for v in line])
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
    if report.total is not None:
        for cell in ws[len(table)]:
            cell.font = bold
    for idx, column in enumerate(report.columns, start=1):
        letter = ws.cell(row=1, column=idx).column_letter
        ws.column_dimensions[letter].width = max(12, min(40, len(column.label) + 2))
        if column.kind == "ratio":
            for row in ws.iter_rows(min_row=2, min_col=idx, max_col=idx):
                for cell in row:
                    cell.number_format = "0.00%"
    ws.freeze_panes = "A2"
    wb.properties.title = report.title
    wb.properties.created = datetime(2000, 1, 1)  # no clock in the file: same report, same bytes
    buf = io.BytesIO()
    wb.save(buf)
    return Response(
        buf.getvalue(),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{_filename(report, "xlsx")}"'},
    )
