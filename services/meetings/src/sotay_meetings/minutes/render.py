"""The minutes draft (Markdown, Vietnamese template), its DOCX rendering (python-docx: a
DOCX carries text, not glyphs, so Vietnamese needs no embedded font) and its PDF rendering
(fpdf2, with Be Vietnam Pro shipped in ``fonts/`` under the SIL OFL 1.1 — a PDF carries glyphs,
so the font travels with the package and never comes from the machine).

Names: people by the name identity's directory gives them (kept in meetings' own projection,
DESIGN.md §6), else by a label a client stored for this meeting (``PUT …/roster-labels``,
deprecated), else — a member who left and was erased, or one the directory has not described
yet — by a placeholder ``[Đảng viên 1a2b3c4d]`` to be edited before signing. Attached documents
by number and title from documents' directory.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from docx import Document
from docx.shared import Pt
from fpdf import FPDF

from ..times import local

KIND_TITLES = {
    "regular": "Sinh hoạt chi bộ thường kỳ",
    "thematic": "Sinh hoạt chi bộ chuyên đề",
    "extraordinary": "Sinh hoạt chi bộ bất thường",
    "committee": "Họp cấp ủy",
}
REASONS = {
    "cong_tac": "công tác",
    "om": "ốm",
    "viec_gia_dinh": "việc gia đình",
    "other": "lý do khác",
}


@dataclass(frozen=True)
class Person:
    member_id: UUID
    standing: str
    label: str | None
    status: str  # final (closed) or expected (not closed yet)
    reason: str | None  # the reason code only: members' free-text notes stay out of minutes


def name_of(member_id: UUID | None, labels: Mapping[UUID, str | None]) -> str:
    if member_id is None:
        return "(chưa phân công)"
    return labels.get(member_id) or f"[Đảng viên {str(member_id)[:8]}]"


def _when(value: datetime) -> str:
    return f"{local(value):%H giờ %M} ngày {local(value):%d/%m/%Y}"


@dataclass(frozen=True)
class DocumentName:
    number: str | None
    title: str


def document_line(document_id: UUID, names: Mapping[UUID, DocumentName]) -> str:
    known = names.get(document_id)
    if known is None:
        return f"Tài liệu [{str(document_id)[:8]}]"
    return f"{known.number} {known.title}" if known.number else known.title


@dataclass(frozen=True)
class Motion:
    number: int
    title: str
    secret: bool
    closed: bool
    options: Sequence[tuple[str, int]]  # label, votes + hands
    present: int | None


def motion_lines(motions: Sequence[Motion]) -> list[str]:
    lines = ["## Biểu quyết", ""]
    if not motions:
        return [*lines, "(không có)", ""]
    for m in motions:
        how = "bỏ phiếu kín" if m.secret else "biểu quyết công khai"
        if not m.closed:
            lines.append(f"{m.number}. {m.title} ({how}): _đang biểu quyết, chưa có kết quả._")
            continue
        counts = "; ".join(f"{label}: {n}" for label, n in m.options)
        cast = sum(n for _, n in m.options)
        lines.append(
            f"{m.number}. {m.title} ({how}) — {counts} "
            f"({cast} phiếu trên {m.present} đảng viên có mặt)."
        )
    return [*lines, ""]


def draft(
    meeting: Any,
    people: Sequence[Person],
    documents: Mapping[UUID, DocumentName] | None = None,
    motions: Sequence[Motion] = (),
) -> str:
    labels = {p.member_id: p.label for p in people}
    kind_title = KIND_TITLES.get(meeting["kind"], "Sinh hoạt chi bộ")
    closed = meeting["status"] == "closed"
    members = [p for p in people if p.standing != "guest"]
    guests = [p for p in people if p.standing == "guest"]

    def group(status: str) -> list[Person]:
        return [p for p in members if p.status == status]

    present, late = group("present"), group("late")
    excused, unexcused, exempt = group("absent_excused"), group("absent_unexcused"), group("exempt")
    lines = [
        "# BIÊN BẢN " + kind_title.upper(),
        "",
        f"## {meeting['title']}",
        "",
        f"**Thời gian:** từ {_when(meeting['starts_at'])} đến {_when(meeting['ends_at'])} "
        "(giờ Việt Nam)",
        "",
        f"**Địa điểm:** {meeting['location'] or '(chưa ghi)'}",
        "",
        f"**Chủ trì:** {name_of(meeting['chair_id'], labels)}",
        "",
        f"**Thư ký:** {name_of(meeting['minute_taker_id'], labels)}",
        "",
        "## Thành phần",
        "",
    ]
    if not closed:
        lines += ["_(Điểm danh chưa chốt: cuộc họp chưa kết thúc.)_", ""]
    lines.append(f"Tổng số đảng viên của chi bộ: {len(members)}; miễn sinh hoạt: {len(exempt)}.")
    lines.append("")

    def section(title: str, group_: list[Person], with_reason: bool = False) -> None:
        lines.append(f"- {title}: {len(group_)}")
        for p in group_:
            text = name_of(p.member_id, labels)
            if p.status == "late":
                text += " (đến muộn)"
            if with_reason and p.reason:
                text += f" — lý do: {REASONS.get(p.reason, p.reason)}"
            lines.append(f"  - {text}")

    section("Có mặt", present + late)
    section("Vắng có lý do", excused, with_reason=True)
    section("Vắng không có lý do", unexcused)
    if exempt:
        section("Miễn sinh hoạt", exempt)
    if guests:
        section("Khách mời có mặt", [g for g in guests if g.status in ("present", "late")])
    lines.append("")
    tallies = meeting.get("tallies")
    if closed and tallies:
        attending = tallies["present"] + tallies["late"]
        verdict = "đủ" if meeting["quorum_met"] else "không đủ"
        lines += [
            f"Số đảng viên dự họp: {attending}/{tallies['quorum_base']} (không tính đảng viên "
            f"miễn sinh hoạt); yêu cầu tối thiểu {meeting['quorum_required']:.0%} — "
            f"cuộc họp {verdict} số lượng theo quy định.",
            "",
        ]
    lines += ["## Chương trình", ""]
    agenda = list(meeting["agenda"])
    lines += [f"{i}. {item}" for i, item in enumerate(agenda, start=1)] or ["(không có)"]
    lines += ["", "## Tài liệu kèm theo", ""]
    attached = list(meeting["document_ids"])
    lines += [f"- {document_line(d, documents or {})}" for d in attached] or ["(không có)"]
    lines += ["", *motion_lines(motions)]
    lines += [
        "## Diễn biến và kết luận",
        "",
        "_(Thư ký ghi diễn biến, ý kiến phát biểu và kết luận của cuộc họp tại đây.)_",
        "",
        "## Ký tên",
        "",
        f"- Chủ trì: {name_of(meeting['chair_id'], labels)}",
        f"- Thư ký: {name_of(meeting['minute_taker_id'], labels)}",
        "",
    ]
    return "\n".join(lines)


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _runs(paragraph: Any, text: str) -> None:
    """Add ``text`` with ``**bold**`` spans and a leading/trailing ``_italic_`` line."""
    italic = len(text) > 1 and text.startswith("_") and text.endswith("_")
    if italic:
        text = text[1:-1]
    pos = 0
    for match in _BOLD.finditer(text):
        if match.start() > pos:
            paragraph.add_run(text[pos : match.start()]).italic = italic
        run = paragraph.add_run(match.group(1))
        run.bold = True
        run.italic = italic
        pos = match.end()
    if pos < len(text):
        paragraph.add_run(text[pos:]).italic = italic


def to_docx(content: str, *, signed: tuple[str, datetime] | None = None) -> bytes:
    """A DOCX of the Markdown minutes (headings, bullet and numbered lists, bold, paragraphs).
    Signed minutes carry their SHA-256 and the time of signature at the end."""
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    for raw in content.split("\n"):
        line = raw.rstrip()
        if not line.strip():
            continue
        if line.startswith("# "):
            document.add_heading(line[2:].strip(), level=0)
        elif line.startswith("## "):
            document.add_heading(line[3:].strip(), level=1)
        elif line.startswith("### "):
            document.add_heading(line[4:].strip(), level=2)
        elif re.match(r"^\s{2,}- ", line):
            _runs(document.add_paragraph(style="List Bullet 2"), line.strip()[2:])
        elif line.startswith("- "):
            _runs(document.add_paragraph(style="List Bullet"), line[2:])
        elif re.match(r"^\d+\. ", line):
            _runs(document.add_paragraph(style="List Number"), line.split(". ", 1)[1])
        else:
            _runs(document.add_paragraph(), line)
    if signed is not None:
        digest, at = signed
        document.add_paragraph()
        footer = document.add_paragraph()
        footer.add_run(
            f"Biên bản đã ký lúc {local(at):%H:%M ngày %d/%m/%Y} (giờ Việt Nam). "
            f"Mã SHA-256 của nội dung: {digest}"
        ).italic = True
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


FONTS = Path(__file__).parent / "fonts"


def _signature_line(signed: tuple[str, datetime]) -> str:
    digest, at = signed
    return (
        f"Biên bản đã ký lúc {local(at):%H:%M ngày %d/%m/%Y} (giờ Việt Nam). "
        f"Mã SHA-256 của nội dung: {digest}"
    )


def to_pdf(content: str, *, signed: tuple[str, datetime] | None = None) -> bytes:
    """An A4 PDF of the Markdown minutes, laid out as the DOCX (headings, lists, bold), text in
    NFC so every diacritic is one glyph of the embedded font. Signed minutes carry their SHA-256
    and the time of signature at the end."""
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font("BeVietnamPro", "", FONTS / "BeVietnamPro-Regular.ttf")
    pdf.add_font("BeVietnamPro", "B", FONTS / "BeVietnamPro-Bold.ttf")
    pdf.add_font("BeVietnamPro", "I", FONTS / "BeVietnamPro-Regular.ttf")
    pdf.add_font("BeVietnamPro", "BI", FONTS / "BeVietnamPro-Bold.ttf")
    pdf.set_title("Biên bản")
    pdf.add_page()

    def write(text: str, *, size: float = 11, style: str = "", indent: float = 0) -> None:
        pdf.set_font("BeVietnamPro", style, size)
        pdf.set_x(pdf.l_margin + indent)
        # fpdf2's markdown also reads __ and -- as italic and underline: keep them as typed.
        text = unicodedata.normalize("NFC", text).replace("--", "\\--").replace("__", "\\__")
        pdf.multi_cell(pdf.epw - indent, size * 0.5, text, markdown=True)
        pdf.ln(1.5)

    def inline(text: str) -> str:
        # fpdf2's markdown knows **bold**; a whole ``_line_`` is the template's italic note.
        if len(text) > 1 and text.startswith("_") and text.endswith("_"):
            return text[1:-1]
        return text

    for raw in content.split("\n"):
        line = raw.rstrip()
        if not line.strip():
            continue
        if line.startswith("# "):
            write(line[2:].strip(), size=16, style="B")
            pdf.ln(2)
        elif line.startswith("## "):
            pdf.ln(2)
            write(line[3:].strip(), size=13, style="B")
        elif line.startswith("### "):
            write(line[4:].strip(), size=12, style="B")
        elif re.match(r"^\s{2,}- ", line):
            write("– " + inline(line.strip()[2:]), indent=12)
        elif line.startswith("- "):
            write("• " + inline(line[2:]), indent=5)
        elif re.match(r"^\d+\. ", line):
            number, rest = line.split(". ", 1)
            write(f"{number}. " + inline(rest), indent=5)
        else:
            write(inline(line))
    if signed is not None:
        pdf.ln(4)
        write(_signature_line(signed), size=10)
    return bytes(pdf.output())
