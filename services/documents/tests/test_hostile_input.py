"""Hostile input (NUL characters, numbers beyond a column, cursors from nowhere) is a clean
4xx, never a 500."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sotay_kit.pagination import encode_cursor

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
        *[(("quiz_int4", path), 422) for path in ("quiz", "quiz/attempts")],
        *[(("quiz_text", field), 422) for field in ("text", "choices")],
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
    elif kind in ("quiz_int4", "quiz_text"):
        doc = await env.upload("admin", resolution)
        await env.publish("admin", doc["id"], "cell_a1a")
        questions = [
            {"text": f"Câu {i}?", "choices": ["Có", "Không"], "correct": 0} for i in "12345"
        ]
        if kind == "quiz_text":
            questions[2][arg] = NUL if arg == "text" else ["Có", NUL]
        url = f"/api/v1/documents/{doc['id']}/{'quiz' if kind == 'quiz_text' else arg}"
        version = {"version": 2**31} if kind == "quiz_int4" else {}
        if arg == "quiz/attempts":
            r = await env.client.post(url, json={**version, "answers": [0] * 5}, headers=me)
        else:
            r = await env.client.put(url, json={**version, "questions": questions}, headers=me)
    elif kind == "documents_cursor":
        cursor = encode_cursor([arg, str(uuid.uuid4()), False])
        r = await env.client.get("/api/v1/documents", params={"cursor": cursor}, headers=me)
    elif kind == "ranked_cursor":
        cursor = encode_cursor([2 * 10**308, str(uuid.uuid4()), False])  # not a float8
        r = await env.client.get(
            "/api/v1/documents", params={"q": "nghi quyet", "cursor": cursor}, headers=me
        )
    elif kind == "news_cursor":
        cursor = encode_cursor([arg, str(uuid.uuid4())])
        r = await env.client.get("/api/v1/news", params={"cursor": cursor}, headers=me)
    else:
        cursor = encode_cursor(["not a number", "lap-bien-ban-sinh-hoat-chi-bo"])
        r = await env.client.get(
            "/api/v1/handbook", params={"q": "bien ban", "cursor": cursor}, headers=me
        )
    assert r.status_code == expect, r.text
    if expect == 422:
        # A clear answer naming the field, not the generic "refused by the database" one.
        [error] = r.json()["errors"]
        int4 = kind in ("int4", "quiz_int4")
        assert error["type"] == ("less_than_equal" if int4 else "control_characters")
