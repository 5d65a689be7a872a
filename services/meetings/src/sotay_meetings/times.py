"""Time on the wire: RFC 3339 with an offset in, UTC and Asia/Ho_Chi_Minh out."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field
from pydantic_core import PydanticCustomError
from sotay_kit.clock import LOCAL_TZ

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})$"
)
# Meetings are scheduled between these years; anything else is a typo or an attack on the
# recurrence arithmetic.
MIN_YEAR, MAX_YEAR = 2000, 2100


def _rfc3339(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("rfc3339", "Thời gian phải là chuỗi RFC 3339 có múi giờ")
    if not _RFC3339.match(value):
        raise PydanticCustomError(
            "timezone_aware",
            "Thời gian phải theo RFC 3339 và có múi giờ (ví dụ 2026-12-04T19:30:00+07:00)",
        )
    return value


def _in_range(value: datetime) -> datetime:
    if not MIN_YEAR <= value.astimezone(UTC).year <= MAX_YEAR:
        raise PydanticCustomError("datetime_range", "Thời gian nằm ngoài khoảng cho phép")
    return value.astimezone(UTC)


Rfc3339 = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339),
    AfterValidator(_in_range),
    Field(examples=["2026-12-04T19:30:00+07:00"]),
]


def local(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TZ)
