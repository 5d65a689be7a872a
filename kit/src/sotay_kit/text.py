"""Vietnamese text helpers shared by the services: NFC normalisation and diacritics folding
for search that works with or without accents."""

from __future__ import annotations

import re
import unicodedata

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def nfc(value: str) -> str:
    """NFC-normalised and stripped: the form every stored Vietnamese string takes."""
    return unicodedata.normalize("NFC", value.strip())


def fold(value: str) -> str:
    """Lower-case without diacritics, whitespace collapsed:
    ``fold("Nguyễn Văn Đức") == "nguyen van duc"``."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.lower().split())


def search_words(value: str) -> list[str]:
    """The words search indexes: folded, split on anything that is not a latin letter or a
    digit, so ``"Nghị quyết số 21-NQ/TW"`` gives ``["nghi", "quyet", "so", "21", "nq", "tw"]``."""
    return [w for w in _NON_ALNUM.split(fold(value)) if w]


def search_text(*parts: str | None) -> str:
    """Space-joined :func:`search_words` of every non-empty part (what a tsvector is built on)."""
    return " ".join(w for p in parts if p for w in search_words(p))


# Control characters (Unicode category Cc: C0, DEL and C1). NUL above all: Postgres text cannot
# hold it, and the others are never typed by a person.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Code points that are not characters: surrogates (a lone one arrives through a JSON escape such
# as "\ud800" and cannot be encoded as UTF-8) and the 66 noncharacters (U+FDD0–U+FDEF and the
# last two code points of every plane, U+FFFE/U+FFFF … U+10FFFE/U+10FFFF). XML (the DOCX/XLSX
# exports) cannot hold them and Postgres refuses a surrogate, so they are refused with the
# control characters, whatever the text allows.
_NOT_A_CHARACTER = re.compile(
    "[\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17))
    + "]"
)
# Characters that do not show but change how text reads: zero-width, line/paragraph separators,
# bidirectional overrides, byte-order mark. Refused in names and codes, where they would let two
# different values look the same.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202e\ufeff]")

MULTILINE = "\t\n\r"  # what free text (an agenda item, minutes, a summary) may hold


def has_control(value: str, *, allowed: str = "") -> bool:
    """``value`` holds a control character other than those in ``allowed``, or a code point that
    is no character at all (a surrogate or a noncharacter, never allowed)."""
    return _NOT_A_CHARACTER.search(value) is not None or any(
        c not in allowed for c in _CONTROL.findall(value)
    )


def has_invisible(value: str) -> bool:
    return _INVISIBLE.search(value) is not None


def refuse_control(
    allowed: str = "", message: str = "Chuỗi chứa ký tự điều khiển"
) -> AfterValidator:
    """A pydantic validator (``Annotated[str, refuse_control()]``, also on query parameters)
    answering 422 ``control_characters`` for a value with a control character (or a surrogate or
    noncharacter, see :func:`has_control`)."""

    def check(value: str | None) -> str | None:
        if value is not None and has_control(value, allowed=allowed):
            raise PydanticCustomError("control_characters", message)
        return value

    return AfterValidator(check)


# Single-line input (names, search words, usernames): no control character at all.
NoControl = refuse_control()
# Free text: line breaks and tabs allowed.
NoControlMultiline = refuse_control(MULTILINE)
