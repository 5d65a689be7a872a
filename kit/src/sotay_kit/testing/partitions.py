"""Test helpers for partitioned tables (sotay_kit.partitions): ids of a chosen month, and the
relations a statement's plan reads (partition pruning)."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sotay_kit.db import Connection


def uuid7_at(moment: datetime) -> uuid.UUID:
    """A UUIDv7 whose timestamp is ``moment`` (RFC 9562: 48-bit ms, version 7, variant 10)."""
    ms = int(moment.timestamp() * 1000)
    rand = secrets.randbits(74)
    return uuid.UUID(
        int=(ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & (2**62 - 1))
    )


async def plan_relations(conn: Connection, sql: str, *args: Any) -> set[str]:
    """The tables and partitions the plan of ``sql`` (run with ``args``) reads or writes.

    Runs ``EXPLAIN`` only (the statement is not executed)."""
    plan = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
    if isinstance(plan, str):  # a connection without kit's JSON codec
        plan = json.loads(plan)
    return {node["Relation Name"] for node in plan_nodes(plan) if "Relation Name" in node}


def plan_nodes(plan: object) -> Iterator[dict[str, Any]]:
    """Every node of an ``EXPLAIN (FORMAT JSON)`` plan, depth first."""
    if isinstance(plan, dict):
        yield plan
        for value in plan.values():
            yield from plan_nodes(value)
    elif isinstance(plan, list):
        for item in plan:
            yield from plan_nodes(item)


async def partition_rows(conn: Connection, table: str) -> dict[str, int]:
    """Each partition of ``table`` with its row count."""
    names = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = $1::regclass ORDER BY 1",
        table,
    )
    return {
        n: await conn.fetchval(f"SELECT count(*) FROM ONLY {n}")  # noqa: S608 - catalog names
        for (n,) in names
    }
