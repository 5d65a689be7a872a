"""Upload, search, download and the access rules of the document library."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import asyncpg
import docx
import httpx
import pytest


def make_docx(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


async def search(env: Any, who: str, q: str) -> list[dict[str, object]]:
    response = await env.client.get("/api/v1/documents", params={"q": q}, headers=env.auth(who))
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_pdf_text_is_extracted_and_found_without_diacritics(
    env: Any, pdf: Any, resolution: bytes
) -> None:
    doc = await env.upload(
        "admin",
        resolution,
        "nq21.pdf",
        title="Nghị quyết về củng cố tổ chức cơ sở đảng",
        number="21-NQ/TW",
        issuer="Ban Chấp hành Trung ương",
        issued_on="2022-06-16",
        classification="internal",
        tags="xây dựng đảng, tổ chức cơ sở",
    )
    assert doc["versions"][0]["content_type"] == "application/pdf"
    other = await env.upload(
        "admin", pdf(["Kế hoạch công tác năm"]), "kh.pdf", title="Kế hoạch năm", kind="plan"
    )
    await env.publish("admin", doc["id"], "district_a")
    await env.publish("admin", other["id"], "district_a")

    for q in (
        "nghi quyet 21",
        "21-NQ/TW",
        "Nghị quyết 21",
        "21/nq-tw",
        "nang cao chat luong doi ngu",
        "nghi quy",
    ):
        found = await search(env, "member_a1a_1", q)
        assert [d["id"] for d in found][:1] == [doc["id"]], q
    # A mistyped number still finds it (trigram similarity, when nothing matches word for word).
    assert [d["id"] for d in await search(env, "member_a1a_1", "21NQ/TW")][:1] == [doc["id"]]
    # Filters
    listing = await env.client.get(
        "/api/v1/documents",
        params={"kind": "resolution", "year": 2022, "tag": "xây dựng đảng"},
        headers=env.auth("member_a1b"),
    )
    assert [d["id"] for d in listing.json()["items"]] == [doc["id"]]
    # Nothing leaks to a member elsewhere in the tree.
    assert await search(env, "member_b1", "nghi quyet 21") == []


async def test_docx_text_is_extracted(env: Any, pdf: Any, resolution: bytes) -> None:
    content = make_docx("Hướng dẫn", "Sinh hoạt chuyên đề về phòng chống lãng phí")
    doc = await env.upload("secretary_a1a", content, "huong-dan.docx", kind="guidance")
    assert doc["versions"][0]["content_type"].endswith("wordprocessingml.document")
    await env.publish("secretary_a1a", doc["id"], "cell_a1a")
    found = await search(env, "member_a1a_2", "phong chong lang phi")
    assert [d["id"] for d in found] == [doc["id"]]
    assert await search(env, "member_a1b", "phong chong lang phi") == []


async def _walk(env: Any, who: str, q: str) -> list[dict[str, Any]]:
    """Every page of a search, one document per page."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"q": q, "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = await env.client.get("/api/v1/documents", params=params, headers=env.auth(who))
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


async def test_search_ranks_title_matches_then_lists_text_matches_page_by_page(
    env: Any, pdf: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Title/metadata matches are ranked (best first), matches in the text alone follow, and
    walking the pages gives the same list as one page. When the title matches are more than the
    candidate cap (common words in a large library), the list is the ranked candidates."""
    titled = await env.upload(
        "admin", pdf(["Nội dung"]), "a.pdf", title="Chuyển đổi số", kind="plan"
    )
    longer = await env.upload(
        "admin", pdf(["Nội dung"]), "b.pdf", title="Kế hoạch năm về tổ chức, chuyển đổi số"
    )
    in_text = await env.upload(
        "admin",
        make_docx("Hướng dẫn", "Triển khai chuyển đổi số ở chi bộ"),
        "c.docx",
        title="Hướng dẫn nghiệp vụ",
        kind="guidance",
    )
    for doc in (titled, longer, in_text):
        await env.publish("admin", doc["id"], "district_a")

    one_page = await search(env, "member_a1a_1", "chuyen doi so")
    assert [d["id"] for d in one_page] == [titled["id"], longer["id"], in_text["id"]]
    ranks = [d["rank"] for d in one_page]
    assert ranks[0] > ranks[1] > ranks[2] == 0
    walked = await _walk(env, "member_a1a_1", "chuyen doi so")
    assert [d["id"] for d in walked] == [d["id"] for d in one_page]

    monkeypatch.setattr("sotay_documents.library.repository.CANDIDATES", 1)
    capped = await _walk(env, "member_a1a_1", "chuyen doi so")
    assert [d["id"] for d in capped] == [titled["id"], longer["id"]]


async def test_same_file_twice_is_stored_once(env: Any, pdf: Any, resolution: bytes) -> None:
    first = await env.upload("admin", resolution, "a.pdf", title="Bản thứ nhất")
    second = await env.upload("admin", resolution, "b.pdf", title="Bản thứ hai")
    assert first["id"] != second["id"]
    assert first["versions"][0]["sha256"] == second["versions"][0]["sha256"]
    assert env.objects() == [first["versions"][0]["sha256"]]


async def test_download_gives_the_same_bytes_and_audits_internal_documents(
    env: Any, pdf: Any, resolution: bytes
) -> None:
    internal = await env.upload("admin", resolution, "nq.pdf", classification="internal")
    public = await env.upload(
        "admin", pdf(["Thông báo công khai"]), "tb.pdf", classification="public"
    )
    await env.publish("admin", internal["id"], "province")
    await env.publish("admin", public["id"], "province")

    link = await env.client.get(
        f"/api/v1/documents/{internal['id']}/file", headers=env.auth("member_b1")
    )
    assert link.status_code == 200, link.text
    async with httpx.AsyncClient() as http:
        fetched = await http.get(link.json()["url"])
    assert fetched.status_code == 200
    assert fetched.content == resolution
    assert "nq.pdf" in fetched.headers["content-disposition"]

    public_link = await env.client.get(
        f"/api/v1/documents/{public['id']}/file", headers=env.auth("member_b1")
    )
    assert public_link.status_code == 200
    rows = await env.pool.fetch(
        "SELECT actor_id, target, details, host(source) FROM audit_log "
        "WHERE action = 'documents.downloaded'"
    )
    assert [tuple(r) for r in rows] == [
        (
            env.member_ids["member_b1"],
            internal["id"],
            {"version": 1, "classification": "internal"},
            "198.51.100.7",
        )
    ]
    uploads = await env.pool.fetch(
        "SELECT target FROM audit_log WHERE action = 'documents.uploaded'"
    )
    assert {internal["id"], public["id"]} <= {r["target"] for r in uploads}
    # The audit is append-only.
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await env.pool.execute("DELETE FROM audit_log")


async def test_presigned_url_expires(env: Any, pdf: Any, resolution: bytes) -> None:
    doc = await env.upload("admin", resolution, "nq.pdf")
    await env.publish("admin", doc["id"], "province")
    env.configure(download_url_ttl=3)  # long enough to fetch once on a busy machine
    link = await env.client.get(
        f"/api/v1/documents/{doc['id']}/file", headers=env.auth("member_a1b")
    )
    url = link.json()["url"]
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).status_code == 200
        deadline = time.monotonic() + 30
        while (status := (await http.get(url)).status_code) == 200:
            assert time.monotonic() < deadline, "the presigned URL never expired"
            await asyncio.sleep(0.25)
    assert status == 403


async def test_member_of_another_cell_gets_nothing(env: Any, pdf: Any, resolution: bytes) -> None:
    doc = await env.upload("admin", resolution, "nq.pdf", title="Chỉ cho huyện A")
    await env.publish("admin", doc["id"], "district_a")
    base = f"/api/v1/documents/{doc['id']}"
    outsider = env.auth("member_b1")
    insider = env.auth("member_a1b")
    assert (await env.client.get(base, headers=insider)).status_code == 200
    listing = await env.client.get("/api/v1/documents", headers=outsider)
    assert listing.json()["items"] == []
    for method, path, body in (
        ("GET", base, None),
        ("GET", f"{base}/file", None),
        ("POST", f"{base}/reads", {"progress_percent": 10}),
        ("PUT", f"{base}/bookmark", None),
        ("POST", f"{base}/publish", {"org_ids": [str(env.org_ids["cell_b1"])]}),
    ):
        response = await env.client.request(method, path, json=body, headers=outsider)
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    # Secretary of another cell, who may publish in their own subtree: still nothing.
    response = await env.client.get(base, headers=env.auth("secretary_b1"))
    assert response.status_code == 404
    # Without a token: 401.
    assert (await env.client.get(base)).status_code == 401


async def test_secretary_publishes_only_inside_their_subtree(
    env: Any, pdf: Any, resolution: bytes
) -> None:
    doc = await env.upload("secretary_a1a", resolution, "nq.pdf")
    outside = await env.client.post(
        f"/api/v1/documents/{doc['id']}/publish",
        json={"org_ids": [str(env.org_ids["cell_a1b"])]},
        headers=env.auth("secretary_a1a"),
    )
    assert outside.status_code == 404, outside.text
    assert await env.pool.fetchval("SELECT count(*) FROM publications") == 0
    await env.publish("secretary_a1a", doc["id"], "cell_a1a")
    # Upload owned by an org outside the subtree: refused.
    refused = await env.upload(
        "secretary_a1a", resolution, "x.pdf", org_id=str(env.org_ids["district_b"]), expect=404
    )
    assert refused.json()["status"] == 404
    # A plain member uploads nothing.
    await env.upload("member_a1a_1", resolution, "x.pdf", expect=403)


async def test_bad_files_are_refused_and_nothing_is_stored(
    env: Any, pdf: Any, resolution: bytes
) -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    cases = [
        (exe, "nghi-quyet.pdf", 415),
        (png, "nghi-quyet.pdf", 415),
        (b"%PDF-1.7\nnot really a pdf\n", "hong.pdf", 422),
        (b"PK\x03\x04broken zip", "hong.docx", 422),
        (b"", "rong.pdf", 422),
    ]
    for content, name, status in cases:
        response = await env.upload("admin", content, name, expect=status)
        body = response.json()
        assert body["status"] == status and body["title"], body
    env.configure(max_upload_bytes=1024)
    too_big = await env.upload("admin", resolution + b"\n" * 2048, "lon.pdf", expect=413)
    assert too_big.json()["max_bytes"] == 1024
    env.configure(max_upload_bytes=50 * 1024 * 1024)
    missing = await env.client.post(
        "/api/v1/documents", data={"title": "x", "kind": "plan"}, headers=env.auth("admin")
    )
    assert missing.status_code in (400, 415), missing.text
    bad_meta = await env.upload("admin", resolution, "nq.pdf", kind="nonsense", expect=422)
    assert bad_meta.json()["errors"][0]["loc"][-1] == "kind"
    assert await env.pool.fetchval("SELECT count(*) FROM documents") == 0
    assert await env.pool.fetchval("SELECT count(*) FROM blobs") == 0
    assert env.objects() == []


async def test_new_versions_keep_the_old_ones(env: Any, pdf: Any, resolution: bytes) -> None:
    doc = await env.upload("admin", resolution, "nq.pdf")
    second = pdf(["Nghị quyết số 21-NQ/TW", "bản sửa đổi bổ sung về phòng chống tham nhũng"])
    response = await env.client.post(
        f"/api/v1/documents/{doc['id']}/versions",
        data={"note": "Bản sửa đổi"},
        files={"file": ("nq-v2.pdf", second, "application/pdf")},
        headers=env.auth("admin"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["current_version"] == 2
    assert [v["version"] for v in body["versions"]] == [1, 2]
    await env.publish("admin", doc["id"], "province")
    assert [d["id"] for d in await search(env, "member_b1", "phong chong tham nhung")] == [
        doc["id"]
    ]
    v1 = await env.client.get(
        f"/api/v1/documents/{doc['id']}/file", params={"version": 1}, headers=env.auth("member_b1")
    )
    async with httpx.AsyncClient() as http:
        assert (await http.get(v1.json()["url"])).content == resolution
    # Only the owning org adds versions.
    denied = await env.client.post(
        f"/api/v1/documents/{doc['id']}/versions",
        files={"file": ("nq-v3.pdf", second, "application/pdf")},
        headers=env.auth("secretary_b1"),
    )
    assert denied.status_code == 403


async def test_bookmarks_and_retraction(env: Any, pdf: Any, resolution: bytes) -> None:
    doc = await env.upload("admin", resolution, "nq.pdf")
    await env.publish("admin", doc["id"], "commune_a1")
    member = env.auth("member_a1b")
    assert (
        await env.client.put(f"/api/v1/documents/{doc['id']}/bookmark", headers=member)
    ).status_code == 204
    marked = await env.client.get("/api/v1/documents", params={"bookmarked": True}, headers=member)
    assert [d["id"] for d in marked.json()["items"]] == [doc["id"]]
    # A cell secretary cannot retract what the province published.
    refused = await env.client.post(
        f"/api/v1/documents/{doc['id']}/retract", headers=env.auth("secretary_a1a")
    )
    assert refused.status_code == 403
    retracted = await env.client.post(
        f"/api/v1/documents/{doc['id']}/retract",
        json={"reason_code": "published_in_error"},
        headers=env.auth("admin"),
    )
    assert retracted.status_code == 204, retracted.text
    assert (
        await env.client.get(f"/api/v1/documents/{doc['id']}", headers=member)
    ).status_code == 404
    subjects = await env.pool.fetch("SELECT subject FROM outbox ORDER BY seq")
    assert [r["subject"] for r in subjects] == [
        "documents.directory.described.v1",  # the title and number, off the public subject
        "documents.document.published.v1",
        "documents.document.retracted.v1",
    ]
