"""notify_0004 moves the names earlier publications carried into the documents table, so their
reminders and retractions keep naming the document after the upgrade (and back on downgrade)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from alembic import command
from sotay_kit.migrations import alembic_config, upgrade_async


async def test_names_move_from_publications_to_documents_and_back(notify_dsn: str) -> None:
    from sotay_notify.app import SPEC

    config = alembic_config(notify_dsn, SPEC.versions_dir)
    await asyncio.to_thread(command.downgrade, config, "notify_0003")
    named, unnamed = uuid.uuid4(), uuid.uuid4()
    conn = await asyncpg.connect(notify_dsn)
    try:
        rows = [
            (named, 1, "Nghị quyết số 5 (dự thảo)", "05-NQ/HU"),
            (named, 2, "Nghị quyết số 5", "05-NQ/HU"),
            (unnamed, 1, None, None),  # published before events named documents
        ]
        for document_id, version, title, number in rows:
            await conn.execute(
                "INSERT INTO publications (publication_id, document_id, version, kind, "
                "audience_paths, publisher_org_id, title, number) "
                "VALUES ($1, $2, $3, 'resolution', '{1}', $4, $5, $6)",
                uuid.uuid4(), document_id, version, uuid.uuid4(), title, number,
            )  # fmt: skip

        await upgrade_async(notify_dsn, SPEC.versions_dir)
        moved = await conn.fetch("SELECT document_id, version, number, title FROM documents")
        assert [tuple(r) for r in moved] == [(named, 2, "05-NQ/HU", "Nghị quyết số 5")]
        columns = await conn.fetchval(
            "SELECT array_agg(column_name::text) FROM information_schema.columns "
            "WHERE table_name = 'publications'"
        )
        assert "title" not in columns and "number" not in columns

        await asyncio.to_thread(command.downgrade, config, "notify_0003")
        back = await conn.fetch(
            "SELECT DISTINCT document_id, number, title FROM publications ORDER BY title"
        )
        assert {tuple(r) for r in back} == {
            (named, "05-NQ/HU", "Nghị quyết số 5"),
            (unnamed, None, None),
        }
    finally:
        await conn.close()
