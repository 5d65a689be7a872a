"""The audit log: append-only, hash-chained, verifiable by operators."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from sotay_identity.audit import repository as audit

from .conftest import bearer


async def test_chain_detects_a_changed_row_and_refuses_updates(identity: Any) -> None:
    async with identity.pool.acquire() as conn:
        actor = uuid.uuid4()
        for i in range(5):
            async with conn.transaction():
                await audit.record(
                    conn,
                    "members.imported",
                    actor_id=actor,
                    source="203.0.113.9",
                    details={"count": i, "cell": "1.2.3"},
                )
        report = await audit.verify(conn)
        assert (report.ok, report.entries) == (True, 5)
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("UPDATE audit_log SET outcome = 'failure' WHERE seq = 3")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("DELETE FROM audit_log WHERE seq = 3")
        # Someone with the power to bypass the trigger edits row 3: the chain shows it.
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
        await conn.execute(
            'UPDATE audit_log SET details = \'{"count": 99, "cell": "1.2.3"}\' WHERE seq = 3'
        )
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")
        report = await audit.verify(conn)
        assert (report.ok, report.first_broken_seq) == (False, 3)


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
