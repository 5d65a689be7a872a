"""Uploading a document whose number and issuer match one the uploader can already see is
answered with that document (409, to link to it) instead of a second copy that members would
find twice in search; the uploader can still confirm and create it."""

from __future__ import annotations

from typing import Any

import asyncpg


async def _documents(env: Any) -> int:
    conn = await asyncpg.connect(env.settings.database_url)
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM documents")
        return count
    finally:
        await conn.close()


async def test_same_number_and_issuer_points_to_the_existing_document(
    env: Any, pdf: Any, resolution: bytes
) -> None:
    first = await env.upload(
        "admin", resolution, title="Nghị quyết về chuyển đổi số",
        number="05-NQ/TU", issuer="Tỉnh ủy Thanh Sơn",
    )  # fmt: skip
    await env.publish("admin", first["id"], "district_a")
    objects = env.objects()

    # The same number and issuer, written another way (case, diacritics, spacing): a warning.
    again = await env.upload(
        "admin", pdf(["Bản chụp khác của nghị quyết"]), title="Nghị quyết 05 (bản chụp)",
        number="05-nq/tu ", issuer="TỈNH UỶ THANH SƠN", expect=409,
    )  # fmt: skip
    problem = again.json()
    assert again.headers["content-type"].startswith("application/problem+json")
    assert problem["type"].endswith("/duplicate-document") and problem["status"] == 409
    [existing] = problem["existing"]
    assert existing["id"] == first["id"] and existing["href"] == f"/api/v1/documents/{first['id']}"
    assert (existing["number"], existing["title"]) == ("05-NQ/TU", "Nghị quyết về chuyển đổi số")
    assert "05-NQ/TU" in problem["detail"]
    assert await _documents(env) == 1 and env.objects() == objects  # nothing created or stored

    # A secretary of a cell the document was published to sees it: warned too.
    by_secretary = await env.upload(
        "secretary_a1a", resolution, number="05-NQ/TU", issuer="Tỉnh ủy Thanh Sơn", expect=409
    )
    assert by_secretary.json()["existing"][0]["id"] == first["id"]
    # Outside its audience and owner's subtree the document is not confirmed: created.
    elsewhere = await env.upload(
        "secretary_b1", resolution, number="05-NQ/TU", issuer="Tỉnh ủy Thanh Sơn"
    )
    # Another issuer's 05-NQ/TU is another document.
    other = await env.upload("admin", resolution, number="05-NQ/TU", issuer="Huyện ủy Đông Hà")
    # Confirmed on purpose: created anyway.
    confirmed = await env.upload(
        "admin", resolution, number="05-NQ/TU", issuer="Tỉnh ủy Thanh Sơn",
        confirm_duplicate="true",
    )  # fmt: skip
    assert len({first["id"], elsewhere["id"], other["id"], confirmed["id"]}) == 4
    assert await _documents(env) == 4
