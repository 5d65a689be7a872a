"""The audit log: append-only, hash-chained, verifiable."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg
import pytest
from sotay_kit import audit, db


async def test_chain_detects_a_changed_row_and_refuses_updates(kit_dsn: str) -> None:
    conn = await db.connect(kit_dsn)
    await conn.execute(audit.AUDIT_DDL)
    await conn.execute(audit.partition_log_sql(date.today()))  # as the services' migrations do
    try:
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
    finally:
        await conn.close()
