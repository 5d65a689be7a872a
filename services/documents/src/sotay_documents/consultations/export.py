"""The summary of a consultation as XLSX (openpyxl) or DOCX (python-docx): per section, the
number of comments and each comment with its cell, author, text, disposition and reply.

Text is never a formula in the spreadsheet (comments come from members): every text cell is
written as a string cell. Synchronous CPU work: the route runs it in a thread."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from datetime import datetime

import docx
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sotay_kit.clock import LOCAL_TZ
from sotay_kit.text import fold

from .schemas import CommentOut, ConsultationOut

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
WHOLE = "Góp ý chung cho toàn văn bản"
DISPOSITIONS = {"pending": "Chưa xử lý", "accepted": "Tiếp thu", "rejected": "Không tiếp thu"}
HEADERS = ["Mục", "STT", "Chi bộ", "Người góp ý", "Nội dung góp ý", "Xử lý", "Lý do", "Trả lời"]
_SLUG = re.compile(r"[^a-z0-9]+")


def filename(c: ConsultationOut, ext: str, now: datetime) -> str:
    slug = _SLUG.sub("-", fold(c.title)).strip("-")[:60] or "du-thao"
    return f"tong-hop-gop-y-{slug}-{now.astimezone(LOCAL_TZ):%Y%m%d}.{ext}"


def groups(
    c: ConsultationOut, comments: list[CommentOut]
) -> Iterator[tuple[str, list[CommentOut]]]:
    """(section heading, its comments): the whole first, then every section in order (those
    without comments too, so the summary shows them at 0)."""
    yield WHOLE, [k for k in comments if k.section is None]
    for s in c.sections:
        yield s.title, [k for k in comments if k.section == s.anchor]


def _when(value: datetime) -> str:
    return f"{value.astimezone(LOCAL_TZ):%H:%M %d/%m/%Y}"


def _heading_lines(c: ConsultationOut, comments: list[CommentOut]) -> list[str]:
    doc = f"{c.document_number} — {c.document_title}" if c.document_number else c.document_title
    return [
        f"Dự thảo: {doc} (phiên bản {c.version})",
        f"Phạm vi lấy ý kiến: {c.org_title or c.org_path}",
        f"Hạn góp ý: {_when(c.deadline)}",
        f"Tổng số góp ý: {len(comments)} của {len({k.member_id for k in comments})} đảng viên",
    ]


def to_xlsx(c: ConsultationOut, comments: list[CommentOut]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Tổng hợp góp ý"
    bold = Font(bold=True)

    def text_row(values: Sequence[object], *, strong: bool = False) -> None:
        ws.append(values)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if strong:
                cell.font = bold

    text_row([f"TỔNG HỢP Ý KIẾN GÓP Ý: {c.title}"], strong=True)
    for line in _heading_lines(c, comments):
        text_row([line])
    text_row([])
    text_row(HEADERS, strong=True)
    header_row = ws.max_row
    for title, items in groups(c, comments):
        text_row([f"{title} ({len(items)} góp ý)"], strong=True)
        for i, k in enumerate(items, start=1):
            text_row(
                [
                    title,
                    i,
                    k.cell_title or "",
                    k.author_name or "",
                    k.text,
                    DISPOSITIONS[k.disposition],
                    k.disposition_reason or "",
                    k.reply or "",
                ]
            )
    for idx, width in enumerate([30, 6, 24, 24, 60, 16, 30, 50], start=1):
        ws.column_dimensions[get_column_letter(idx)].width = width
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    wb.properties.title = f"Tổng hợp góp ý: {c.title}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def to_docx(c: ConsultationOut, comments: list[CommentOut]) -> bytes:
    document = docx.Document()
    document.add_heading(f"TỔNG HỢP Ý KIẾN GÓP Ý: {c.title}", level=1)
    for line in _heading_lines(c, comments):
        document.add_paragraph(line)
    for title, items in groups(c, comments):
        document.add_heading(f"{title} ({len(items)} góp ý)", level=2)
        if not items:
            document.add_paragraph("Không có góp ý.")
            continue
        table = document.add_table(rows=1, cols=6)
        table.style = "Table Grid"
        for cell, label in zip(
            table.rows[0].cells,
            ["STT", "Chi bộ", "Người góp ý", "Nội dung góp ý", "Xử lý", "Trả lời"],
            strict=True,
        ):
            cell.text = label
        for i, k in enumerate(items, start=1):
            disposition = DISPOSITIONS[k.disposition]
            if k.disposition_reason:
                disposition += f": {k.disposition_reason}"
            for cell, value in zip(
                table.add_row().cells,
                [
                    str(i),
                    k.cell_title or "",
                    k.author_name or "",
                    k.text,
                    disposition,
                    k.reply or "",
                ],
                strict=True,
            ):
                cell.text = value
    document.core_properties.title = f"Tổng hợp góp ý: {c.title}"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
