"""Keyset pagination for list endpoints: ``?limit=&cursor=`` in, ``{items, next_cursor}`` out.

The cursor is opaque to clients (base64url JSON of the last row's sort key), so an endpoint can
change its sort key without breaking anyone, and a tampered cursor is a clean 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Query
from pydantic import BaseModel

from .errors import BadRequest

Limit = Annotated[int, Query(ge=1, le=500, description="Số phần tử tối đa mỗi trang")]
Cursor = Annotated[
    str | None, Query(max_length=500, description="Con trỏ trang tiếp theo (next_cursor)")
]


T = TypeVar("T")
K = TypeVar("K")

INVALID_CURSOR = "Con trỏ phân trang không hợp lệ"


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: Any) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str | None) -> Any:
    if cursor is None:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise BadRequest(INVALID_CURSOR) from exc


def decode_keyset(cursor: str | None, parse: Callable[[Any], K]) -> K | None:
    """The keyset position a cursor holds, as ``parse`` reads it from the decoded JSON. A
    cursor ``parse`` cannot read (tampered, or from another listing) is a clean 400."""
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        return parse(raw)
    except (TypeError, ValueError, LookupError, OverflowError, AttributeError) as exc:
        raise BadRequest(INVALID_CURSOR) from exc


# Readers of the parts of a keyset, for ``parse``: each raises ValueError or TypeError on a
# value of the wrong shape.


def key_time(value: Any) -> datetime:
    """An ISO time with its offset, in UTC (a year-1 or year-9999 time with an offset does not
    fit Postgres' encoder)."""
    if not isinstance(value, str):
        raise TypeError(value)
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:
        raise ValueError(value)
    return when.astimezone(UTC)


def key_uuid(value: Any) -> UUID:
    if not isinstance(value, str):
        raise TypeError(value)
    return UUID(value)


def key_int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(value)
    return value


def key_number(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(value)
    return float(value)
