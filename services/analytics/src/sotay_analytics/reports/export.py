"""A report as JSON, CSV (UTF-8 with BOM, so Excel reads the Vietnamese right) or XLSX.

Text is never a formula in a spreadsheet (org titles come from users): in CSV a text cell that
starts with ``= + - @``, a tab or a carriage return is prefixed with ``'``; in XLSX every text
cell is written as a string cell. The builders are synchronous CPU work: routes run them in a
thread."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from starlette.responses import Response

from .schemas import ColumnOut, ReportOut
from .service import Column, Report

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOTAL_LABEL = "Tổng cộng"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    if isinstance(value, bool):
        # A yes/no of a row reads as a word; the total of a yes/no column is a count and stays
        # a number ("2 meetings at quorum", not "Có").
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


def _csv_text(value: Any) -> Any:
    """A text cell a spreadsheet would read as a formula is quoted as text."""
    value = _nfc(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(report: Report) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for line in _table(report):
        writer.writerow([_csv_text(v) for v in line])
    body = "\ufeff" + out.getvalue()
    return Response(
        body.encode("utf-8"),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{_filename(report, "csv")}"'},
    )


def to_xlsx(report: Report) -> Response:
    wb = Workbook(write_only=True)  # streamed rows: memory stays flat for large reports
    ws = wb.create_sheet(report.title[:31])
    for idx, column in enumerate(report.columns, start=1):
        width = max(12, min(40, len(column.label) + 2))
        ws.column_dimensions[get_column_letter(idx)].width = width
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    table = _table(report)
    last = len(table) - 1

    def cell(value: Any, column: Column, line: int) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=_nfc(value))
        if isinstance(value, str):
            c.data_type = "s"  # text, never a formula
        if line == 0 or (line == last and report.total is not None):
            c.font = bold
        if line > 0 and column.kind == "ratio":
            c.number_format = "0.00%"
        return c

    for line, values in enumerate(table):
        ws.append([cell(v, c, line) for v, c in zip(values, report.columns, strict=True)])
    wb.properties.title = report.title
    wb.properties.created = datetime(2000, 1, 1)  # no clock in the file: same report, same bytes
    buf = io.BytesIO()
    wb.save(buf)
    return Response(
        buf.getvalue(),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{_filename(report, "xlsx")}"'},
    )
