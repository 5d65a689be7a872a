"""A document's extracted text cut into blocks a reader view can show: headings and paragraphs.

PDF text comes as the lines of the printed page, so lines are joined into paragraphs: a blank
line, a line that opens an article, a numbered or bulleted item, or a line following one that
ends a sentence starts a new block. A DOCX file keeps its own paragraphs, one per line. A short
block in capitals ("NGHỊ QUYẾT") or naming a part ("Chương II", "Điều 3. …", "I. …") is a heading.
Plain text only: nothing here is ever HTML.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from ..files import DOCX

BlockKind = Literal["heading", "paragraph"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u00ad\u200b\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_OPENS_BLOCK = re.compile(
    r"^(?:(?:Phần|Chương|Mục|Điều|PHẦN|CHƯƠNG|MỤC|ĐIỀU)\s+[0-9IVXLC]+\b"  # parts, articles
    r"|[IVXLC]+\.\s"  # I. II. …
    r"|\d+(?:\.\d+)*[.)]\s"  # 1. 1.2. 3)
    r"|[a-zđ]\)\s"  # a) b) đ)
    r"|[-–•+*]\s)"  # bullets
)
_NAMES_A_PART = re.compile(
    r"^(?:(?:Phần|Chương|Mục|PHẦN|CHƯƠNG|MỤC)\s+[0-9IVXLC]+\b|Điều\s+\d+\.|[IVXLC]+\.\s)"
)
_ENDS_SENTENCE = (".", ":", ";", "!", "?", "…")
HEADING_MAX_CHARS = 160


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str


def _clean(line: str) -> str:
    return _SPACES.sub(" ", _CONTROL.sub("", line)).strip()


def _is_heading(text: str) -> bool:
    if len(text) > HEADING_MAX_CHARS:
        return False
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return True
    return bool(_NAMES_A_PART.match(text))


def _paragraphs_of_pdf(lines: list[str]) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if not line:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        if current and (
            _OPENS_BLOCK.match(line)
            or current[-1].endswith(_ENDS_SENTENCE)
            or _is_heading(current[-1]) != _is_heading(line)
        ):
            paragraphs.append(" ".join(current))
            current = []
        current.append(line)
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def blocks(text: str, content_type: str) -> list[Block]:
    lines = [_clean(line) for line in unicodedata.normalize("NFC", text).splitlines()]
    if content_type == DOCX:
        paragraphs = [line for line in lines if line]
    else:
        paragraphs = _paragraphs_of_pdf(lines)
    return [Block("heading" if _is_heading(p) else "paragraph", p) for p in paragraphs]


@dataclass(frozen=True)
class Section:
    """A part of the reader view that takes comments in a consultation: one per heading."""

    anchor: str
    title: str


def anchors(cut: list[Block]) -> list[str | None]:
    """Each heading's section anchor (``s1``, ``s2``, … in reading order), None for paragraphs.
    A version's text never changes, so its anchors are stable."""
    out: list[str | None] = []
    n = 0
    for block in cut:
        if block.kind == "heading":
            n += 1
            out.append(f"s{n}")
        else:
            out.append(None)
    return out


def sections(cut: list[Block]) -> list[Section]:
    return [
        Section(anchor, block.text)
        for block, anchor in zip(cut, anchors(cut), strict=True)
        if anchor is not None
    ]
