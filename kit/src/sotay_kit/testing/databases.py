"""Fresh migrated databases for tests: cloned from a template migrated once per session.

Needs only a superuser DSN of a running PostgreSQL; the server itself is started by
``sotay_devstack.testing`` (the pytest plugin the workspace's root ``conftest.py`` loads).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from .. import migrations

#: Migrations of kit's own tables only (outbox, inbox): ``make_database("kit", EMPTY_VERSIONS)``.
EMPTY_VERSIONS = Path(__file__).parent / "empty_versions"

#: ``await make_database(key, versions_dir)`` → DSN of a fresh migrated database.
DatabaseFactory = Callable[[str, Path], Awaitable[str]]


class TemplateDatabases:
    """Template databases migrated once (per key) and fresh clones of them (milliseconds).

    ``admin_dsn(name)`` gives the superuser's DSN for database ``name``.
    """

    def __init__(self, admin_dsn: Callable[[str], str]) -> None:
        self.admin_dsn = admin_dsn
        self._templates: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def template(self, key: str, versions_dir: Path) -> str:
        """A migrated template database for ``key`` (created once per session)."""
        async with self._lock:
            if key not in self._templates:
                name = f"tmpl_{key}"
                await self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await self.execute(f'CREATE DATABASE "{name}"')
                await migrations.upgrade_async(self.admin_dsn(name), versions_dir)
                self._templates[key] = name
            return self._templates[key]

    async def fresh(self, key: str, versions_dir: Path) -> str:
        """Name of a new database cloned from ``key``'s template."""
        template = await self.template(key, versions_dir)
        name = f"t_{key}_{uuid.uuid4().hex[:10]}"
        await self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    async def drop(self, name: str) -> None:
        await self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def execute(self, sql: str) -> None:
        """Run one statement on the server's ``postgres`` database."""
        conn = await asyncpg.connect(self.admin_dsn("postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()
