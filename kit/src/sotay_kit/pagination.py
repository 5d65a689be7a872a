"""Keyset pagination for list endpoints: ``?limit=&cursor=`` in, ``{items, next_cursor}`` out.

The cursor is opaque to clients (base64url JSON of the last row's sort key), so an endpoint can
change its sort key without breaking anyone, and a tampered cursor is a clean 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from .errors import BadRequest

Limit = Annotated[int, Query(ge=1, le=500, description="Số phần tử tối đa mỗi trang")]
Cursor = Annotated[
    str | None, Query(max_length=500, description="Con trỏ trang tiếp theo (next_cursor)")
]


T = TypeVar("T")


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
        raise BadRequest("Con trỏ phân trang không hợp lệ") from exc
