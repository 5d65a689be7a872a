"""Where the benchmarks run: the running stack if reachable, else servers of their own.

A running stack's data is never touched: the benchmarks get a scratch database
(``bench_<tag>_<n>``, migrated with kit's tables only) and scratch streams
(``BENCH_<TAG>_<NAME>`` capturing ``bench<tag><name>.>``, a subject no platform stream captures),
all dropped when the context exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sotay_devstack.servers import NATS_USERS, Nats, Postgres, free_port, generate_secret
from sotay_kit import messaging, migrations
from sotay_kit.testing.databases import EMPTY_VERSIONS
from sotay_kit.topology import OPERATOR_NATS_USER

ROOT = Path(__file__).resolve().parent.parent
STACK_JSON = ROOT / ".data" / "stack.json"
RESULTS_DIR = Path(__file__).resolve().parent / "results"

log = logging.getLogger("bench")


@dataclass
class BenchInfra:
    source: str  # "stack" (the running stack of .data/stack.json) or "own" (started here)
    admin_dsn: str  # superuser, database "postgres"
    nats_url: str  # operator user
    tag: str  # random lowercase hex, unique per run
    nc: NATS
    _databases: list[str] = field(default_factory=list)
    _streams: list[str] = field(default_factory=list)

    @property
    def js(self) -> JetStreamContext:
        return self.nc.jetstream()

    def dsn(self, database: str) -> str:
        base, _, _ = self.admin_dsn.rpartition("/")
        return f"{base}/{database}"

    async def scratch_database(self, name: str) -> str:
        """Create ``bench_<tag>_<name>`` with kit's tables (outbox, inbox); returns its DSN."""
        database = f"bench_{self.tag}_{name}"
        await _admin(self.admin_dsn, f'CREATE DATABASE "{database}"')
        self._databases.append(database)
        dsn = self.dsn(database)
        await migrations.upgrade_async(dsn, EMPTY_VERSIONS)
        return dsn

    async def scratch_stream(self, name: str) -> tuple[str, str]:
        """Create a stream configured like the platform's; returns (stream, subject prefix).

        The stream captures ``<prefix>.>`` only; creation fails if another stream already
        captures that subject, so a running stack's streams are never written to.
        """
        stream = f"BENCH_{self.tag.upper()}_{name.upper()}"
        prefix = f"bench{self.tag}{name.lower()}"
        spec = messaging.StreamSpec(stream, (f"{prefix}.>",), description="benchmark scratch")
        await self.js.add_stream(spec.config(replicas=1))
        self._streams.append(stream)
        return stream, prefix

    async def cleanup(self) -> None:
        for stream in reversed(self._streams):
            with contextlib.suppress(Exception):
                await self.js.delete_stream(stream)
        self._streams.clear()
        for database in reversed(self._databases):
            with contextlib.suppress(Exception):
                await _admin(self.admin_dsn, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self._databases.clear()


async def _admin(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _reachable(admin_dsn: str, nats_url: str) -> bool:
    try:
        async with asyncio.timeout(5):
            conn = await asyncpg.connect(admin_dsn, timeout=3)
            await conn.close()
            nc = await nats.connect(
                nats_url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2
            )
            try:
                await nc.jetstream().account_info()
            finally:
                await nc.close()
    except Exception as exc:
        log.info("stack not reachable: %s", type(exc).__name__)
        return False
    return True


def _stack_description() -> tuple[str, str] | None:
    try:
        desc: dict[str, Any] = json.loads(STACK_JSON.read_text())
        return str(desc["postgres"]["dsn"]), str(desc["nats_url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.asynccontextmanager
async def bench_infra(*, own: bool = False) -> AsyncIterator[BenchInfra]:
    """Infrastructure for one benchmark session (see the module docstring).

    ``own=True`` ignores a running stack and always starts private servers.
    """
    tag = secrets.token_hex(4)
    described = None if own else _stack_description()
    tmp: Path | None = None
    pg: Postgres | None = None
    nats_server: Nats | None = None
    if described is not None and await _reachable(*described):
        source = "stack"
        admin_dsn, nats_url = described
    else:
        source = "own"
        tmp = Path(tempfile.mkdtemp(prefix="sotay-bench-"))
        pg = Postgres(tmp / "pg", free_port(), generate_secret(16))
        passwords = {u: generate_secret(16) for u in NATS_USERS}
        nats_server = Nats(tmp / "nats", free_port(), free_port(), passwords)
    try:
        if pg is not None and nats_server is not None:
            await asyncio.to_thread(pg.start)
            await asyncio.to_thread(nats_server.start)
            admin_dsn, nats_url = pg.dsn(), nats_server.url_for(OPERATOR_NATS_USER)
        nc = await messaging.connect(nats_url, name=f"bench-{tag}")
        infra = BenchInfra(source, admin_dsn, nats_url, tag, nc)
        try:
            yield infra
        finally:
            await infra.cleanup()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.close(), timeout=5)
    finally:
        if nats_server is not None:
            await asyncio.to_thread(nats_server.stop)
        if pg is not None:
            await asyncio.to_thread(pg.stop)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


async def wait_for(
    condition: Callable[[], bool], limit_s: float, what: str, interval: float = 0.002
) -> float:
    """Poll an in-process condition (no I/O) until true; returns ``perf_counter`` at that point.

    Bounded: gives up with ``TimeoutError`` after about ``limit_s`` seconds.
    """
    deadline = time.monotonic() + limit_s
    for _ in range(int(limit_s / interval) + 1):
        if condition():
            return time.perf_counter()
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(interval)
    raise TimeoutError(f"{what} not reached within {limit_s:.0f}s")


def arg_parser(description: str | None, default_n: int) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-n", type=int, default=default_n, help="messages per measurement")
    parser.add_argument(
        "--own", action="store_true", help="start private servers even if a stack is running"
    )
    return parser


def quiet_logs() -> None:
    """Warnings only; kit's "nats disconnected" on our own close is not news."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("sotay.messaging").setLevel(logging.ERROR)


def run_standalone(
    main: Callable[..., Awaitable[dict[str, Any]]], description: str | None, default_n: int
) -> dict[str, Any]:
    """``python -m bench.<name>``: one benchmark on its own infrastructure."""
    args = arg_parser(description, default_n).parse_args()
    quiet_logs()

    async def go() -> dict[str, Any]:
        async with bench_infra(own=args.own) as infra:
            print(f"bench: infrastructure = {infra.source}")
            return await main(infra, n=args.n)

    return asyncio.run(go())
