"""identity_0003 describes every member already on the roll in the directory, so services that
show members by name learn the names of members created before the directory existed; members
who left are not described."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
from alembic import command
from sotay_contracts import CloudEvent, parse_event
from sotay_contracts.events.identity import MemberDescribed
from sotay_identity.app import SPEC
from sotay_kit.migrations import alembic_config, upgrade_async
from sotay_kit.testing.databases import DatabaseFactory


async def test_members_on_the_roll_are_described_once_by_the_upgrade(
    make_database: DatabaseFactory,
) -> None:
    dsn = await make_database("identity", SPEC.versions_dir)
    await asyncio.to_thread(
        command.downgrade, alembic_config(dsn, SPEC.versions_dir), "identity_0002"
    )
    conn = await asyncpg.connect(dsn)
    try:
        cell = uuid.uuid4()
        await conn.execute(
            "INSERT INTO org_units (id, key, parent_id, path, code, title, kind) "
            "VALUES ($1, 1, NULL, '1', 'C1', 'Chi bộ Thôn Đông', 'grassroots_cell')",
            cell,
        )
        on_roll, exempt, left = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        for member_id, card, name, status in (
            (on_roll, "93.000001", "Nguyễn Thị Hoa", "active"),
            (exempt, "93.000002", "Lê Văn Già", "exempt"),
            (left, "93.000003", "Trần Văn Đi", "transferred_out"),
        ):
            await conn.execute(
                "INSERT INTO members (id, card_number, full_name, search_name, cell_id, status) "
                "VALUES ($1, $2, $3, $3, $4, $5)",
                member_id, card, name, cell, status,
            )  # fmt: skip

        await upgrade_async(dsn, SPEC.versions_dir)
        rows = await conn.fetch("SELECT subject, headers, body FROM outbox ORDER BY seq")
        events = [
            parse_event(CloudEvent.from_nats(json.loads(r["headers"]), bytes(r["body"])))
            for r in rows
        ]
        described = [e for e in events if isinstance(e, MemberDescribed)]
        assert len(described) == len(events) == 2
        assert {
            (e.member_id, e.full_name, e.card_number, e.cell_id, e.org_path) for e in described
        } == {
            (on_roll, "Nguyễn Thị Hoa", "93.000001", cell, "1"),
            (exempt, "Lê Văn Già", "93.000002", cell, "1"),
        }
    finally:
        await conn.close()
