"""Alembic environment shared by every service.

Migrations run over psycopg (sync): revisions are multi-statement SQL scripts, which the
simple-query protocol runs as written. The services themselves use asyncpg.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool


def _url(dsn: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if dsn.startswith(prefix):
            return "postgresql+psycopg://" + dsn[len(prefix) :]
    return dsn


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not used in this project")

engine = create_engine(_url(context.config.attributes["dsn"]), poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
