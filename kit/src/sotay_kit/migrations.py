"""Schema migrations with Alembic, one history per service database.

All services share one Alembic environment (``sotay_kit/alembic/env.py``); each service keeps
its revisions in ``sotay_<service>/migrations/versions``; a service's first revision lists
``depends_on = "kit_0001"`` when it needs kit's tables first. Revisions are plain SQL through
``op.execute`` — the services use asyncpg, not an ORM.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from alembic import command
from alembic.config import Config

_ENV_DIR = Path(__file__).parent / "alembic"
# Kit's own revisions (outbox, inbox) form the "kit" branch of every service's history.
KIT_VERSIONS_DIR = _ENV_DIR / "versions"


def alembic_config(dsn: str, versions_dir: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_ENV_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option(
        "version_locations", os.pathsep.join([str(KIT_VERSIONS_DIR), str(versions_dir)])
    )
    cfg.attributes["dsn"] = dsn
    return cfg


def upgrade(dsn: str, versions_dir: Path, revision: str = "heads") -> None:
    """Apply migrations synchronously (Alembic runs its own event loop)."""
    command.upgrade(alembic_config(dsn, versions_dir), revision)


async def upgrade_async(dsn: str, versions_dir: Path, revision: str = "heads") -> None:
    await asyncio.to_thread(upgrade, dsn, versions_dir, revision)


def current(dsn: str, versions_dir: Path) -> None:
    command.current(alembic_config(dsn, versions_dir))
