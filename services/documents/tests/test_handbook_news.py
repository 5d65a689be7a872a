"""The handbook (shipped articles, searchable without diacritics) and news down the tree."""

from __future__ import annotations

from typing import Any

from sotay_documents.handbook import loader


async def test_handbook_is_loaded_and_searchable_without_diacritics(env: Any) -> None:
    me = env.auth("member_b1")
    listing = await env.client.get("/api/v1/handbook", params={"limit": 100}, headers=me)
    assert listing.status_code == 200
    assert len(listing.json()["items"]) >= 10
    found = await env.client.get("/api/v1/handbook", params={"q": "bien ban"}, headers=me)
    assert found.json()["items"][0]["slug"] == "lap-bien-ban-sinh-hoat-chi-bo"
    found = await env.client.get(
        "/api/v1/handbook", params={"q": "chuyển sinh hoạt đến"}, headers=me
    )
    assert found.json()["items"][0]["slug"] == "tiep-nhan-dang-vien-chuyen-sinh-hoat-den"
    article = await env.client.get("/api/v1/handbook/lap-bien-ban-sinh-hoat-chi-bo", headers=me)
    assert article.json()["title"] == "Lập biên bản sinh hoạt chi bộ"
    assert "Chữ ký" in article.json()["body"]
    assert (await env.client.get("/api/v1/handbook/khong-co", headers=me)).status_code == 404
    categories = await env.client.get("/api/v1/handbook/categories", headers=me)
    assert {"category": "Sinh hoạt chi bộ", "articles": 3} in categories.json()
    # Paging through everything, and loading again changes nothing.
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await env.client.get("/api/v1/handbook", params=params, headers=me)).json()
        seen += [a["slug"] for a in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert sorted(seen) == sorted(a.slug for a in loader.shipped())
    assert await loader.load(env.pool) == 0
    assert (await env.client.get("/api/v1/handbook")).status_code == 401


async def test_news_reaches_the_subtree_only(env: Any) -> None:
    posted = await env.client.post(
        "/api/v1/news",
        json={
            "title": "Lịch học nghị quyết",
            "body": "**Thứ Bảy** tuần này.",
            "org_ids": [str(env.org_ids["district_a"])],
        },
        headers=env.auth("admin"),
    )
    assert posted.status_code == 201, posted.text
    news_id = posted.json()["id"]
    inside = await env.client.get("/api/v1/news", headers=env.auth("member_a1b"))
    assert [n["id"] for n in inside.json()["items"]] == [news_id]
    outside = await env.client.get("/api/v1/news", headers=env.auth("member_b1"))
    assert outside.json()["items"] == []
    assert (
        await env.client.get(f"/api/v1/news/{news_id}", headers=env.auth("member_b1"))
    ).status_code == 404
    refused = await env.client.post(
        "/api/v1/news",
        json={"title": "Tin", "body": "x", "org_ids": [str(env.org_ids["district_a"])]},
        headers=env.auth("secretary_a1a"),
    )
    assert refused.status_code == 404
    member = await env.client.post(
        "/api/v1/news",
        json={"title": "Tin", "body": "x", "org_ids": [str(env.org_ids["cell_a1a"])]},
        headers=env.auth("member_a1a_1"),
    )
    assert member.status_code == 403
    gone = await env.client.delete(f"/api/v1/news/{news_id}", headers=env.auth("admin"))
    assert gone.status_code == 204
    inside = await env.client.get("/api/v1/news", headers=env.auth("member_a1b"))
    assert inside.json()["items"] == []
