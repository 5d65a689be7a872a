"""An org that moves with its subtree takes the paths documents stores along: the news it
published stays its own."""

from __future__ import annotations

import uuid
from typing import Any

from sotay_contracts import new_cloud_event
from sotay_contracts.events import identity as ev

from .conftest import NOW, post_news, wait_until


async def test_an_org_move_carries_the_news_publisher(env: Any) -> None:
    news_id = await post_news(env, "secretary_a1a", "cell_a1a")
    moved = ev.OrgMoved(
        org_id=env.org_ids["commune_a1"],
        old_parent_id=env.org_ids["district_a"],
        new_parent_id=env.org_ids["district_b"],
        old_path="1.2.3",
        new_path="1.6.3",
        revision=2,
        occurred_at=NOW,
    )
    ce = new_cloud_event(moved)
    await env.nc.jetstream().publish(ce.nats_subject, ce.data, headers=ce.to_nats_headers())

    async def rewritten() -> bool:
        row = await env.pool.fetchrow(
            "SELECT publisher_org_path, org_paths FROM news WHERE id = $1", uuid.UUID(news_id)
        )
        return bool(row["publisher_org_path"] == "1.6.3.4" and row["org_paths"] == ["1.6.3.4"])

    await wait_until(rewritten, "the news paths to move")
    r = await env.client.delete(
        f"/api/v1/news/{news_id}",
        headers=env.auth(
            "secretary_a1a",
            org_path="1.6.3.4",
            grants=[{"role": "cell_secretary", "org_path": "1.6.3.4"}],
        ),
    )
    assert r.status_code == 204
