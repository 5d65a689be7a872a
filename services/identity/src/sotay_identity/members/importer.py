"""CSV bulk import of members: decode, parse and validate every row before anything is written.

Pure functions (no I/O): the service runs them in a worker thread, then checks the rows against
the database (card numbers and phones already taken, cells by code) and inserts everything in one
transaction — or nothing, and answers with the full per-row report.

Accepted files: UTF-8 with or without a byte-order mark; comma, semicolon or tab separated
(whichever the header line uses); Vietnamese or English headers, matched without diacritics or
case ("Số thẻ đảng viên", "so the dang vien" and "card_number" are the same column); a leading
"STT" (row number) column is ignored; dates as dd/mm/yyyy or yyyy-mm-dd; sex as Nam/Nữ.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from . import fields

MAX_BYTES = 16 * 1024 * 1024  # ~100,000 rows of a typical roster fit
MAX_ROWS = 100_000
MAX_REPORTED = 1000  # errors listed in a report (all are counted)

# column -> accepted headers, folded (fields.fold: no diacritics, lower case)
ALIASES: dict[str, tuple[str, ...]] = {
    "card_number": (
        "so the dang vien",
        "so the",
        "so the dang",
        "ma the dang vien",
        "card number",
        "card_number",
        "card",
    ),
    "full_name": ("ho va ten", "ho ten", "ten dang vien", "full name", "full_name", "name"),
    "date_of_birth": (
        "ngay sinh",
        "ngay thang nam sinh",
        "date of birth",
        "date_of_birth",
        "dob",
        "birth date",
    ),
    "sex": ("gioi tinh", "sex", "gender"),
    "phone": ("so dien thoai", "dien thoai", "sdt", "so dt", "phone", "phone number", "mobile"),
    "email": ("email", "e-mail", "thu dien tu", "dia chi email"),
    "admitted_on": (
        "ngay vao dang",
        "ngay ket nap",
        "ngay ket nap dang",
        "admitted on",
        "admitted_on",
    ),
    "official_on": ("ngay chinh thuc", "ngay cong nhan chinh thuc", "official on", "official_on"),
    "membership": ("loai dang vien", "dang vien chinh thuc/du bi", "membership"),
    "citizen_id": (
        "so cccd",
        "cccd",
        "so can cuoc",
        "so can cuoc cong dan",
        "so dinh danh",
        "so dinh danh ca nhan",
        "citizen id",
        "citizen_id",
    ),
    "cell_code": ("ma chi bo", "ma to chuc", "cell code", "cell_code"),
}
IGNORED_HEADERS = frozenset({"stt", "so tt", "tt", "no", "no.", "#"})
REQUIRED = ("card_number", "full_name")
LABELS = {
    "card_number": "Số thẻ đảng viên",
    "full_name": "Họ và tên",
    "date_of_birth": "Ngày sinh",
    "sex": "Giới tính",
    "phone": "Số điện thoại",
    "email": "Email",
    "admitted_on": "Ngày vào Đảng",
    "official_on": "Ngày chính thức",
    "membership": "Loại đảng viên",
    "citizen_id": "Số CCCD",
    "cell_code": "Mã chi bộ",
}
_BY_HEADER = {alias: column for column, aliases in ALIASES.items() for alias in aliases}


def _past_date(text: str) -> date:
    return fields.past_date(fields.parse_date(text))


def _cell_code(text: str) -> str:
    return fields.org_code(text)


_NORMALISERS: dict[str, Callable[[str], Any]] = {
    "card_number": fields.card_number,
    "full_name": fields.full_name,
    "date_of_birth": _past_date,
    "sex": fields.sex,
    "phone": fields.phone,
    "email": fields.email,
    "admitted_on": _past_date,
    "official_on": _past_date,
    "membership": fields.membership,
    "citizen_id": fields.citizen_id,
    "cell_code": _cell_code,
}


@dataclass
class Report:
    """Per-row problems: ``{row, column, reason}``; the header is row 1."""

    items: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, row: int, column: str | None, reason: str) -> None:
        self.count += 1
        if len(self.items) < MAX_REPORTED:
            self.items.append({"row": row, "column": column, "reason": reason})

    def __bool__(self) -> bool:
        return self.count > 0

    def sorted(self) -> list[dict[str, Any]]:
        return sorted(self.items, key=lambda e: (e["row"], e["column"] or ""))


@dataclass
class ImportRow:
    row: int
    values: dict[str, Any]

    @property
    def card_number(self) -> str:
        card: str = self.values["card_number"]
        return card


@dataclass
class Parsed:
    rows: list[ImportRow]
    report: Report
    headers: dict[str, str]  # column -> header as written in the file


class Rejected(Exception):
    """The file cannot be read at all (encoding, not CSV); carries a one-entry report."""

    def __init__(self, report: Report) -> None:
        super().__init__("rejected")
        self.report = report


def _reject(row: int, column: str | None, reason: str) -> Rejected:
    report = Report()
    report.add(row, column, reason)
    return Rejected(report)


def decode(data: bytes) -> str:
    """UTF-8 (a BOM is allowed and dropped); anything else is refused with an explanation."""
    if not data.strip():
        raise _reject(1, None, "Tệp rỗng")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _reject(
            1,
            None,
            "Tệp được lưu dạng UTF-16 (Unicode). Hãy lưu lại dạng "
            "'CSV UTF-8 (Comma delimited) (*.csv)'",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _reject(
            line,
            None,
            f"Tệp không phải mã UTF-8 (byte không hợp lệ ở dòng {line}). Có thể tệp được lưu "
            "bằng bảng mã Windows-1258, TCVN3 (ABC) hoặc VNI; hãy mở tệp bằng Excel và lưu lại "
            "dạng 'CSV UTF-8 (Comma delimited) (*.csv)'",
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise _reject(line, None, "Tệp chứa ký tự NUL: đây không phải tệp CSV dạng văn bản")
    return text


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def header_key(header: str) -> str:
    return fields.fold(header.replace("_", " ").strip().strip("*:")).strip()


def parse(text: str, *, cell_from_query: bool) -> Parsed:
    """Parse and validate every row. Duplicates inside the file are reported here; those
    against the database and unknown cell codes are the service's to add."""
    report = Report()
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(first_line), strict=True
    )
    columns, headers = _read_header(reader, cell_from_query, report)
    if report:
        return Parsed([], report, headers)
    rows = _read_rows(reader, columns, headers, cell_from_query, report)
    if not rows and not report:
        report.add(2, None, "Tệp không có dòng dữ liệu nào")
    return Parsed(rows, report, headers)


def _read_header(
    reader: Iterator[list[str]], cell_from_query: bool, report: Report
) -> tuple[list[str | None], dict[str, str]]:
    """The column of each cell of a row (None: ignored), and the header as written for each
    column we read; every problem of the header goes to ``report``."""
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _reject(1, None, f"Dòng tiêu đề không đọc được như CSV ({exc})") from None
    if not header or not any(h.strip() for h in header):
        raise _reject(1, None, "Thiếu dòng tiêu đề (tên các cột)")
    columns: list[str | None] = []
    headers: dict[str, str] = {}
    for raw in header:
        written = fields.clean_text(raw).lstrip("\ufeff")
        key = header_key(written)
        column = _BY_HEADER.get(key)
        if column is None:
            if key and key not in IGNORED_HEADERS:
                report.add(1, written[:100], "Cột không được hỗ trợ (kiểm tra lại tên cột)")
            columns.append(None)
            continue
        if column in headers:
            report.add(1, written[:100], f"Cột {LABELS[column]} xuất hiện hai lần")
        headers[column] = written
        columns.append(column)
    for column in REQUIRED:
        if column not in headers:
            report.add(1, LABELS[column], f"Thiếu cột bắt buộc: {LABELS[column]}")
    if "cell_code" not in headers and not cell_from_query:
        report.add(
            1,
            LABELS["cell_code"],
            "Thiếu cột Mã chi bộ (hoặc chỉ định chi bộ bằng tham số cell_id)",
        )
    return columns, headers


def _read_rows(
    reader: Iterator[list[str]],
    columns: list[str | None],
    headers: dict[str, str],
    cell_from_query: bool,
    report: Report,
) -> list[ImportRow]:
    """The valid rows; every problem of a row (and the file's end) goes to ``report``."""
    rows: list[ImportRow] = []
    first_seen: dict[str, dict[str, int]] = {column: {} for column in _UNIQUE}
    row_no = 1
    width = len(columns)
    try:
        for record in reader:
            row_no += 1
            if not any(v.strip() for v in record):
                continue  # blank line, or a row of empty cells as spreadsheets export
            if len(rows) >= MAX_ROWS:
                report.add(row_no, None, f"Tệp có quá {MAX_ROWS:,} dòng dữ liệu".replace(",", "."))
                break
            if len(record) != width:
                report.add(row_no, None, f"Dòng có {len(record)} ô, dòng tiêu đề có {width} cột")
                continue
            values, ok = _row_values(row_no, record, columns, headers, report)
            if not ok:
                continue
            if not values.get("cell_code") and not cell_from_query:
                report.add(row_no, headers["cell_code"], "Thiếu mã chi bộ")
                continue
            if _seen_before(row_no, values, first_seen, headers, report):
                continue
            rows.append(ImportRow(row_no, values))
    except csv.Error as exc:
        report.add(row_no + 1, None, f"Không đọc được dòng này như CSV ({exc}); dừng kiểm tra")
    return rows


# Columns unique across members, and how a duplicate inside the file is named.
_UNIQUE = {"card_number": "Số thẻ đảng viên", "phone": "Số điện thoại"}


def _seen_before(
    row_no: int,
    values: dict[str, Any],
    first_seen: dict[str, dict[str, int]],
    headers: dict[str, str],
    report: Report,
) -> bool:
    """A unique value of this row was on an earlier row (reported). ``first_seen`` keeps, per
    unique column, the row where each value first stood."""
    for column, seen in first_seen.items():
        value = values.get(column)
        if not value:
            continue
        if value in seen:
            report.add(row_no, headers[column], f"{_UNIQUE[column]} trùng với dòng {seen[value]}")
            return True
        seen[value] = row_no
    return False


def _row_values(
    row_no: int,
    record: list[str],
    columns: list[str | None],
    headers: dict[str, str],
    report: Report,
) -> tuple[dict[str, Any], bool]:
    values: dict[str, Any] = {}
    ok = True
    for column, raw in zip(columns, record, strict=True):
        if column is None:
            continue
        text = raw.strip()
        if not text:
            if column in REQUIRED:
                report.add(row_no, headers[column], f"Thiếu {LABELS[column].lower()}")
                ok = False
            values[column] = None
            continue
        if len(text) > 1000:
            report.add(row_no, headers[column], "Giá trị quá dài")
            ok = False
            continue
        try:
            values[column] = _NORMALISERS[column](text)
        except ValueError as exc:
            report.add(row_no, headers[column], str(exc))
            ok = False
    if ok:
        for column, reason in fields.date_order_problems(
            values.get("date_of_birth"), values.get("admitted_on"), values.get("official_on")
        ):
            report.add(row_no, headers.get(column, LABELS[column]), reason)
            ok = False
    return values, ok
