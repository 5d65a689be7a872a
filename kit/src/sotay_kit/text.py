"""Vietnamese text helpers shared by the services: NFC normalisation and diacritics folding
for search that works with or without accents."""

from __future__ import annotations

import re
import unicodedata

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
