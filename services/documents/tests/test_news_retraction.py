"""Only the committee that published a news item retracts it."""

from __future__ import annotations

from typing import Any

from .conftest import post_news


async def test_a_cell_secretary_cannot_retract_province_news(env: Any) -> None:
    news_id = await post_news(env, "admin", "cell_a1a")
    url = f"/api/v1/news/{news_id}"
    r = await env.client.delete(url, headers=env.auth("secretary_a1a"))
    assert r.status_code == 403
    r = await env.client.delete(url, headers=env.auth("member_a1a_1"))
    assert r.status_code == 403
    r = await env.client.delete(url, headers=env.auth("secretary_b1"))  # cannot see it
    assert r.status_code == 404
    listing = await env.client.get("/api/v1/news", headers=env.auth("member_a1a_1"))
    assert [n["id"] for n in listing.json()["items"]] == [news_id]
    assert (await env.client.delete(url, headers=env.auth("admin"))).status_code == 204
    listing = await env.client.get("/api/v1/news", headers=env.auth("member_a1a_1"))
    assert listing.json()["items"] == []
    # The cell's own news stays the cell secretary's to retract.
    own = await post_news(env, "secretary_a1a", "cell_a1a")
    r = await env.client.delete(f"/api/v1/news/{own}", headers=env.auth("secretary_a1a"))
    assert r.status_code == 204
