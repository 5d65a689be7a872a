"""Rosters and attendance are partitioned by month of the meeting's UUIDv7 id
(sotay_meetings.partitioned): a check-in touches that month only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sotay_kit import partitions
from sotay_kit.testing.partitions import partition_rows, plan_relations
from sotay_meetings.meetings.repository import CHECK_IN

from .conftest import MeetingsApp, schedule


async def test_a_check_in_touches_only_its_meetings_month(svc: MeetingsApp) -> None:
    meeting = await schedule(svc)
    meeting_id = uuid.UUID(meeting["id"])
    assert meeting_id.version == 7  # time-ordered: its month is in the id
    month = partitions.partition_name("meeting_invitees", partitions.month_of(datetime.now(UTC)))
    async with svc.pool.acquire() as conn:
        rows = await partition_rows(conn, "meeting_invitees")
        assert rows[month] == len(meeting["roster"]) > 0
        assert rows["meeting_invitees_default"] == 0
        read = await plan_relations(
            conn, CHECK_IN, meeting_id, svc.world.members["m1"], "present", datetime.now(UTC)
        )
    assert read == {"meeting_invitees", month}
