"""What a closed grading motion decides (called by the motions domain when a motion closes)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sotay_kit.db import Connection

from . import repository
from .schemas import GRADE_ORDER


def voted_grade(totals: Sequence[int], present: int) -> str | None:
    """The grade more than half of the members present chose, or None (the cell votes again)."""
    if len(totals) != len(GRADE_ORDER) or present <= 0:
        return None
    best = max(range(len(totals)), key=lambda i: totals[i])
    return GRADE_ORDER[best].value if totals[best] * 2 > present else None


async def motion_closed(
    conn: Connection, motion_id: UUID, totals: Sequence[int], present: int
) -> None:
    """Record the vote on the review the motion grades (nothing when it grades no one)."""
    await repository.record_vote(conn, motion_id, totals, voted_grade(totals, present))
