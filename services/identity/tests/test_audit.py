"""Identity's audit log through its operators' endpoints."""

from __future__ import annotations

from typing import Any

from sotay_identity.audit import repository as audit

from .conftest import bearer


async def test_only_operators_read_and_verify_the_log(
    identity: Any, tree: Any, token_for: Any
) -> None:
    async with identity.pool.acquire() as conn, conn.transaction():
        await audit.record(conn, "auth.login", outcome="failure", source="198.51.100.4")
    operator = bearer(await token_for("Ngô Văn Vận Hành"))
    r = await identity.client.get("/api/v1/identity/audit/verify", headers=operator)
    assert r.status_code == 200
    assert r.json()["ok"] is True
    assert r.json()["entries"] >= 1
    page = await identity.client.get("/api/v1/identity/audit?limit=1", headers=operator)
    assert page.status_code == 200
    assert page.json()["items"][0]["source"] == "198.51.100.4"
    for name in ("Trần Thị Quản Trị", "Hoàng Văn Đảng Viên"):
        headers = bearer(await token_for(name))
        for path in ("/api/v1/identity/audit/verify", "/api/v1/identity/audit"):
            r = await identity.client.get(path, headers=headers)
            assert r.status_code == 403, (name, path)
    assert (await identity.client.get("/api/v1/identity/audit")).status_code == 401
