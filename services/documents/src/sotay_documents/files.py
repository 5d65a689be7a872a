"""What an uploaded file is, judged by its content (never by its name), and its text.

Accepted: PDF, DOCX, XLSX, PNG, JPEG, WebP. The name's extension must agree with the content,
so a program renamed ``.pdf`` or a picture renamed ``.docx`` is refused. PDF and DOCX files are
opened to extract their text for search; a file that cannot be opened is refused as broken.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from .problems import BrokenFile, EmptyFile, UnsupportedFileType

log = logging.getLogger("sotay.documents.files")

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"

EXTENSIONS: dict[str, frozenset[str]] = {
    PDF: frozenset({".pdf"}),
    DOCX: frozenset({".docx"}),
    XLSX: frozenset({".xlsx"}),
    PNG: frozenset({".png"}),
    JPEG: frozenset({".jpg", ".jpeg"}),
    WEBP: frozenset({".webp"}),
}

MAX_TEXT_CHARS = 300_000  # extracted text kept for search
MAX_PDF_PAGES = 2_000
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024  # an Office file that unzips to more is refused


@dataclass(frozen=True, slots=True)
class FileInfo:
    content_type: str
    text: str


def _zip_kind(fh: IO[bytes]) -> str:
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
            if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
                raise BrokenFile("Tệp nén giải ra quá lớn")
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BrokenFile("Tệp Office bị hỏng") from exc
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    raise UnsupportedFileType("Chỉ nhận tệp PDF, DOCX, XLSX hoặc ảnh PNG, JPEG, WebP")


def sniff(fh: IO[bytes]) -> str:
    """The content type of the file, from its first bytes (and, for Office files, its parts)."""
    fh.seek(0)
    head = fh.read(16)
    if not head:
        raise EmptyFile("Tệp tải lên không có nội dung")
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(fh)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    raise UnsupportedFileType("Chỉ nhận tệp PDF, DOCX, XLSX hoặc ảnh PNG, JPEG, WebP")


def check_extension(filename: str, content_type: str) -> None:
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if suffix not in EXTENSIONS[content_type]:
        raise UnsupportedFileType(
            "Phần mở rộng của tên tệp không khớp với nội dung tệp",
            extensions={"detected": content_type},
        )


def _pdf_text(fh: IO[bytes]) -> str:
    from pypdf import PdfReader

    fh.seek(0)
    try:
        reader = PdfReader(fh)
        if reader.is_encrypted:
            # Protected with an owner password only (opens without one): read it; otherwise
            # the file is kept but has no searchable text.
            try:
                if not reader.decrypt(""):
                    return ""
            except Exception:
                return ""
        pages = reader.pages
        if len(pages) == 0:
            raise BrokenFile("Tệp PDF không có trang nào")
        out: list[str] = []
        size = 0
        for i, page in enumerate(pages):
            if i >= MAX_PDF_PAGES or size >= MAX_TEXT_CHARS:
                break
            text = page.extract_text() or ""
            out.append(text)
            size += len(text)
    except BrokenFile:
        raise
    except Exception as exc:  # pypdf raises many kinds on malformed input
        raise BrokenFile("Tệp PDF bị hỏng hoặc không đọc được") from exc
    return "\n".join(out)[:MAX_TEXT_CHARS]


def _docx_text(fh: IO[bytes]) -> str:
    import docx

    fh.seek(0)
    try:
        document = docx.Document(fh)
        out: list[str] = []
        size = 0
        for paragraph in document.paragraphs:
            out.append(paragraph.text)
            size += len(paragraph.text)
            if size >= MAX_TEXT_CHARS:
                break
        for table in document.tables:
            if size >= MAX_TEXT_CHARS:
                break
            for row in table.rows:
                for cell in row.cells:
                    out.append(cell.text)
                    size += len(cell.text)
    except Exception as exc:
        raise BrokenFile("Tệp DOCX bị hỏng hoặc không đọc được") from exc
    return "\n".join(out)[:MAX_TEXT_CHARS]


def inspect(fh: IO[bytes], filename: str) -> FileInfo:
    """Type by content, extension agreement, and the text to index. Blocking: run it in a
    worker thread."""
    content_type = sniff(fh)
    check_extension(filename, content_type)
    text = extract_text(fh, content_type)
    fh.seek(0)
    return FileInfo(content_type, text)


def extract_text(fh: IO[bytes], content_type: str) -> str:
    """The text of a PDF or DOCX file ("" for other types). Blocking."""
    if content_type == PDF:
        return _pdf_text(fh)
    if content_type == DOCX:
        return _docx_text(fh)
    return ""
