"""Pytest plugin: real Postgres, NATS and S3, started once per session on free ports.

Loaded by the workspace's root ``conftest.py``. A test gets a fresh database cloned from a
migrated template (milliseconds, real migrations; :mod:`sotay_kit.testing.databases`) and a
JetStream whose streams were reset and re-provisioned for it.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.errors import ServerError
from sotay_kit import messaging
from sotay_kit.testing.databases import EMPTY_VERSIONS, DatabaseFactory, TemplateDatabases
from sotay_kit.topology import OPERATOR_NATS_USER

from .servers import (
    NATS_USERS,
    Nats,
    Postgres,
    SeaweedS3,
    free_port,
    generate_secret,
)

__all__ = ["DatabaseFactory", "Infra", "S3Info", "server_dir"]

_STORE_NOT_CREATED = 10049


@dataclass
class Infra:
    root: Path
    pg: Postgres
    nats: Nats
    nats_passwords: dict[str, str]
    databases: TemplateDatabases = field(init=False)

    def __post_init__(self) -> None:
        self.databases = TemplateDatabases(self.pg.dsn)

    def nats_url(self, user: str = OPERATOR_NATS_USER) -> str:
        return self.nats.url_for(user)

    async def template(self, key: str, versions_dir: Path) -> str:
        """A migrated template database for ``key`` (created once per session)."""
        return await self.databases.template(key, versions_dir)

    async def fresh_database(self, key: str, versions_dir: Path) -> str:
        return await self.databases.fresh(key, versions_dir)


@contextmanager
def server_dir(name: str) -> Iterator[Path]:
    """A directory for servers' data outside pytest's temporary root.

    PostgreSQL runs as an unprivileged user that must traverse the path to its data, and every
    new pytest session resets its temporary root to mode 0700 (and prunes old ones), which
    would cut off the servers of a session still running next to it.
    """
    path = Path(tempfile.mkdtemp(prefix=f"sotay-{name}-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def server_tmp() -> Iterator[Path]:
    """Like ``tmp_path``, for tests that start servers of their own (see :func:`server_dir`)."""
    with server_dir("test") as path:
        yield path


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    with server_dir("infra") as root:
        yield from _infra(root)


def _infra(root: Path) -> Iterator[Infra]:
    pg = Postgres(root / "pg", free_port(), generate_secret(16))
    passwords = {u: generate_secret(16) for u in NATS_USERS}
    nats = Nats(root / "nats", free_port(), free_port(), passwords)
    pg.start()
    try:
        nats.start()
        try:
            yield Infra(root, pg, nats, passwords)
        finally:
            nats.stop()
    finally:
        pg.stop()


@dataclass
class S3Info:
    server: SeaweedS3
    access_key: str
    secret_key: str

    @property
    def endpoint(self) -> str:
        return str(self.server.endpoint)


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Info]:
    with server_dir("s3") as root:
        yield from _s3(root)


def _s3(root: Path) -> Iterator[S3Info]:
    access, secret = "test" + generate_secret(6), generate_secret()
    server = SeaweedS3(root, free_port(), access, secret)
    server.start()
    try:
        yield S3Info(server, access, secret)
    finally:
        server.stop()


@pytest_asyncio.fixture
async def make_database(infra: Infra) -> AsyncIterator[DatabaseFactory]:
    """``await make_database(key, versions_dir)`` → DSN of a fresh migrated database."""
    created: list[str] = []

    async def factory(key: str, versions_dir: Path) -> str:
        name = await infra.fresh_database(key, versions_dir)
        created.append(name)
        return infra.pg.dsn(name)

    yield factory
    for name in created:
        await infra.databases.drop(name)


@pytest_asyncio.fixture
async def kit_dsn(make_database: DatabaseFactory) -> str:
    """A fresh database holding only kit's tables (outbox, inbox)."""
    return await make_database("kit", EMPTY_VERSIONS)


@pytest_asyncio.fixture
async def nats_operator(infra: Infra) -> AsyncIterator[NATS]:
    """An operator connection to a JetStream reset for this test: platform streams only."""
    nc = await messaging.connect(infra.nats_url(), name="tests")
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            assert info.config.name is not None
            await js.delete_stream(info.config.name)
        await _provision_after_delete(js)
        yield nc
    finally:
        await nc.close()


async def _provision_after_delete(js: JetStreamContext) -> None:
    """Re-create the platform streams just deleted.

    The server answers a delete before a busy disk has removed the stream's directory; creating
    the same name in that moment fails with "error creating store for stream" (err_code 10049).
    It clears within moments, so retry that one error for a bounded time.
    """
    for attempt in range(100):
        try:
            await messaging.provision(js, messaging.platform_streams(), [])
            return
        except ServerError as error:
            if error.err_code != _STORE_NOT_CREATED or attempt == 99:
                raise
            await asyncio.sleep(0.05)


@pytest_asyncio.fixture
async def js(nats_operator: NATS) -> JetStreamContext:
    return nats_operator.jetstream()
