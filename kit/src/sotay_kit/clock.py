"""The one clock every service reads the time from.

Routes take ``now: Now`` and pass it down; background work (consumers, workers) reads
``Resources.clock``. Tests move time by overriding :func:`current_time`
(``app.dependency_overrides[current_time] = ...``) or by replacing the state's clock, never by
sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends

Clock = Callable[[], datetime]

# The country's civil time: what members read on notices, and what "a month" means in reports.
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def utc_now() -> datetime:
    return datetime.now(UTC)


async def current_time() -> datetime:
    """The request's "now" (a dependency, so tests override it). ``async``: FastAPI would run
    a plain function in a worker thread."""
    return utc_now()


Now = Annotated[datetime, Depends(current_time)]
