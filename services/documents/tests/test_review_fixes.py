"""Fixes from the security review: only the publishing committee retracts news, org moves carry
the publisher with them, and hostile input is a 4xx, never a 500."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from sotay_contracts import new_cloud_event
from sotay_contracts.events import identity as ev

from .conftest import NOW, wait_until


async def _post_news(env: Any, who: str, *orgs: str) -> str:
    posted = await env.client.post(
        "/api/v1/news",
        json={
            "title": "Thông báo của Tỉnh ủy",
            "body": "Nội dung.",
            "org_ids": [str(env.org_ids[o]) for o in orgs],
        },
        headers=env.auth(who),
    )
    assert posted.status_code == 201, posted.text
    return str(posted.json()["id"])


async def test_a_cell_secretary_cannot_retract_province_news(env: Any) -> None:
    news_id = await _post_news(env, "admin", "cell_a1a")
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
    own = await _post_news(env, "secretary_a1a", "cell_a1a")
    r = await env.client.delete(f"/api/v1/news/{own}", headers=env.auth("secretary_a1a"))
    assert r.status_code == 204


async def test_an_org_move_carries_the_news_publisher(env: Any) -> None:
    news_id = await _post_news(env, "secretary_a1a", "cell_a1a")
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


def _cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).rstrip(b"=").decode()


NUL = "a\u0000b"
FAR_PAST = "0001-01-01T00:00:00+14:00"
FAR_FUTURE = "9999-12-31T23:59:59-14:00"


@pytest.mark.parametrize(
    ("case", "expect"),
    [
        *[(("news", field), 422) for field in ("title", "body")],
        *[(("upload", field), 422) for field in ("title", "number", "issuer", "summary", "tags")],
        (("version_note", None), 422),
        *[(("list", param), 422) for param in ("issuer", "tag", "q")],
        (("handbook", "category"), 422),
        *[(("int4", path), 422) for path in ("publish", "reads")],
        *[(("documents_cursor", when), 400) for when in (FAR_PAST, FAR_FUTURE)],
        (("ranked_cursor", None), 400),
        *[(("news_cursor", when), 400) for when in (FAR_PAST, FAR_FUTURE)],
        (("handbook_cursor", None), 400),
    ],
)
async def test_hostile_input_is_a_clean_4xx(
    env: Any, resolution: bytes, pdf: Any, case: tuple[str, Any], expect: int
) -> None:
    kind, arg = case
    me = env.auth("admin")
    if kind == "news":
        body = {"title": "Tin", "body": "Nội dung", "org_ids": [str(env.org_ids["cell_a1a"])]}
        r = await env.client.post("/api/v1/news", json={**body, arg: NUL}, headers=me)
    elif kind == "upload":
        r = await env.upload("admin", resolution, expect=expect, **{arg: NUL})
    elif kind == "version_note":
        doc = await env.upload("admin", resolution)
        r = await env.client.post(
            f"/api/v1/documents/{doc['id']}/versions",
            data={"note": NUL},
            files={"file": ("v2.pdf", pdf(["Phiên bản 2"]), "application/octet-stream")},
            headers=me,
        )
    elif kind == "list":
        r = await env.client.get("/api/v1/documents", params={arg: NUL}, headers=me)
    elif kind == "handbook":
        r = await env.client.get("/api/v1/handbook", params={arg: NUL}, headers=me)
    elif kind == "int4":
        doc = await env.upload("admin", resolution)
        await env.publish("admin", doc["id"], "cell_a1a")
        body = {"version": 2**31}
        if arg == "publish":
            body["org_ids"] = [str(env.org_ids["cell_a1a"])]
        r = await env.client.post(f"/api/v1/documents/{doc['id']}/{arg}", json=body, headers=me)
    elif kind == "documents_cursor":
        cursor = _cursor([arg, str(uuid.uuid4()), False])
        r = await env.client.get("/api/v1/documents", params={"cursor": cursor}, headers=me)
    elif kind == "ranked_cursor":
        cursor = _cursor([2 * 10**308, str(uuid.uuid4()), False])  # not a float8
        r = await env.client.get(
            "/api/v1/documents", params={"q": "nghi quyet", "cursor": cursor}, headers=me
        )
    elif kind == "news_cursor":
        cursor = _cursor([arg, str(uuid.uuid4())])
        r = await env.client.get("/api/v1/news", params={"cursor": cursor}, headers=me)
    else:
        cursor = _cursor(["not a number", "lap-bien-ban-sinh-hoat-chi-bo"])
        r = await env.client.get(
            "/api/v1/handbook", params={"q": "bien ban", "cursor": cursor}, headers=me
        )
    assert r.status_code == expect, r.text
    if expect == 422:
        # A clear answer naming the field, not the generic "refused by the database" one.
        [error] = r.json()["errors"]
        assert error["type"] == ("less_than_equal" if kind == "int4" else "control_characters")
