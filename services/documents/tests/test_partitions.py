"""Reading progress is partitioned by month of its document's UUIDv7 id
(sotay_documents.partitioned): a member's progress post touches that month only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sotay_documents.study.repository import RECORD_PROGRESS
from sotay_kit import partitions
from sotay_kit.testing.partitions import partition_rows, plan_relations


async def test_progress_posts_touch_only_their_documents_month(env: Any, resolution: bytes) -> None:
    doc = await env.upload("admin", resolution, "nq.pdf")
    await env.publish("admin", doc["id"], "cell_a1a", study_required=True)
    response = await env.client.post(
        f"/api/v1/documents/{doc['id']}/reads",
        json={"progress_percent": 40},
        headers=env.auth("member_a1a_1"),
    )
    assert response.status_code == 200, response.text

    document_id = uuid.UUID(doc["id"])
    assert document_id.version == 7  # time-ordered: its month is in the id
    month = partitions.partition_name("reads", partitions.month_of(datetime.now(UTC)))
    async with env.pool.acquire() as conn:
        rows = await partition_rows(conn, "reads")
        assert rows[month] == 1 and rows["reads_default"] == 0
        read = await plan_relations(
            conn,
            RECORD_PROGRESS,
            document_id,
            1,
            env.member_ids["member_a1a_1"],
            env.org_ids["cell_a1a"],
            env.path("cell_a1a"),
            60,
            None,
            datetime.now(UTC),
            10,
        )
    assert read == {"reads", month}
