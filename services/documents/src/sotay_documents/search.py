"""Search that works without diacritics: what is indexed, and how a query becomes a tsquery.

Indexed text is folded (lower case, no diacritics, anything not a letter or digit as a space),
so "Nghị quyết số 21-NQ/TW" is stored as ``nghi quyet so 21 nq tw`` and a query typed either
way ("nghi quyet 21", "21-NQ/TW", "Nghị quyết 21") meets it word for word. The last word of a
query matches as a prefix ("nghi quy" finds "nghị quyết"). Document numbers are also matched
fuzzily by trigrams when the query has a digit in it.
"""

from __future__ import annotations

from sotay_kit.text import search_text, search_words

MAX_QUERY_WORDS = 12


def tsquery(query: str | None) -> str | None:
    """``to_tsquery('simple', …)`` text: every word required, the last one as a prefix.
    Words hold only ``[0-9a-z]``, so the result cannot carry tsquery operators."""
    if not query:
        return None
    words = search_words(query)[:MAX_QUERY_WORDS]
    if not words:
        return None
    return " & ".join([*words[:-1], f"{words[-1]}:*"])


def number_query(query: str | None) -> str | None:
    """The folded query for trigram matching against document numbers (only when it has a
    digit: numbers are what fuzzy matching is for)."""
    if not query:
        return None
    words = search_words(query)[:MAX_QUERY_WORDS]
    if not any(c.isdigit() for w in words for c in w):
        return None
    return " ".join(words)


__all__ = ["number_query", "search_text", "tsquery"]
