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
# Characters that do not show but change how text reads: zero-width, line/paragraph separators,
# bidirectional overrides, byte-order mark. Refused in names and codes, where they would let two
# different values look the same.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202e\ufeff]")

MULTILINE = "\t\n\r"  # what free text (an agenda item, minutes, a summary) may hold


def has_control(value: str, *, allowed: str = "") -> bool:
    """``value`` holds a control character other than those in ``allowed``."""
    return any(c not in allowed for c in _CONTROL.findall(value))


def has_invisible(value: str) -> bool:
    return _INVISIBLE.search(value) is not None


def refuse_control(
    allowed: str = "", message: str = "Chuỗi chứa ký tự điều khiển"
) -> AfterValidator:
    """A pydantic validator (``Annotated[str, refuse_control()]``, also on query parameters)
    answering 422 ``control_characters`` for a value with a control character."""

    def check(value: str | None) -> str | None:
        if value is not None and has_control(value, allowed=allowed):
            raise PydanticCustomError("control_characters", message)
        return value

    return AfterValidator(check)


# Single-line input (names, search words, usernames): no control character at all.
NoControl = refuse_control()
# Free text: line breaks and tabs allowed.
NoControlMultiline = refuse_control(MULTILINE)
