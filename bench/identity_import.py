"""Member import: rows/s of ``POST /api/v1/members/import`` ÷ rows/s of a raw COPY (§11).

Both sides load the same 60,000 members of a synthetic province (2,920 cells, rows spread over
them by a "Mã chi bộ" column) into a fresh identity database:

- import: the CSV (UTF-8, Vietnamese headers, dd/mm/yyyy dates) is posted to the identity app
  in-process (httpx ``ASGITransport``, an org admin's token) and timed until the response: every
  row parsed and validated, duplicates checked against the database, citizen-id numbers
  encrypted, one activation code per member, members + memberships + accounts written with COPY,
  one ``identity.member.created.v1`` per member in the outbox, an audit entry, one commit, and
  60,000 activation codes returned;
- raw COPY: the same member records, already built in memory, COPY'd into ``members`` of a
  second fresh database in one transaction — the floor the import cannot beat.

    uv run python -m bench.identity_import [-n 60000] [--own]
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import random
import time
import uuid
from typing import Any

import asyncpg
import httpx
from sotay_devstack.demo import person_name
from sotay_identity.app import SPEC, create_app
from sotay_identity.crypto import DataCipher
from sotay_identity.members import fields
from sotay_identity.members.repository import MEMBER_COLUMNS
from sotay_identity.settings import IdentitySettings
from sotay_kit import migrations
from sotay_kit.testing.tokens import TokenFactory

from ._infra import BenchInfra, arg_parser, bench_infra, quiet_logs

DEFAULT_N = 60_000
CELLS = 2_920
DISTRICTS = 9
COMMITTEES_PER_DISTRICT = 30
AIM = 0.25  # the import does far more than COPY one table; a quarter of its rate is the aim

HEADER = [
    "Số thẻ đảng viên",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Số điện thoại",
    "Email",
    "Ngày vào Đảng",
    "Ngày chính thức",
    "Số CCCD",
    "Mã chi bộ",
]


async def _admin(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _province(dsn: str) -> tuple[str, list[tuple[uuid.UUID, str, str]]]:
    """Province → 9 districts → 270 grassroots committees → 2,920 cells. Returns the province
    path and the cells (id, path, code)."""
    conn = await asyncpg.connect(dsn)
    try:

        async def org(
            parent: tuple[uuid.UUID, str] | None, kind: str, title: str, code: str | None = None
        ) -> tuple[uuid.UUID, str]:
            org_id = uuid.uuid4()
            key = await conn.fetchval("SELECT nextval('org_key_seq')")
            path = f"{parent[1]}.{key}" if parent else str(key)
            await conn.execute(
                "INSERT INTO org_units (id, key, parent_id, path, title, kind, code) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                org_id,
                key,
                parent[0] if parent else None,
                path,
                title,
                kind,
                code,
            )
            return org_id, path

        async with conn.transaction():
            province = await org(None, "province", "Đảng bộ tỉnh Thử Nghiệm")
            committees = []
            for d in range(DISTRICTS):
                district = await org(province, "district", f"Đảng bộ huyện số {d + 1}")
                for c in range(COMMITTEES_PER_DISTRICT):
                    committees.append(
                        await org(
                            district, "grassroots_committee", f"Đảng ủy xã số {d + 1}.{c + 1}"
                        )
                    )
            cells = []
            for i in range(CELLS):
                code = f"CB{i:05d}"
                cell_id, path = await org(
                    committees[i % len(committees)], "cell", f"Chi bộ thôn số {i + 1}", code
                )
                cells.append((cell_id, path, code))
        return province[1], cells
    finally:
        await conn.close()


def _rows(n: int, cells: list[tuple[uuid.UUID, str, str]]) -> list[list[str]]:
    rng = random.Random(2026)
    rows = []
    for i in range(n):
        year = rng.randint(1950, 1998)
        rows.append(
            [
                f"{i // 10_000 + 1:02d}.{i:07d}",
                person_name(rng)[0],
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}",
                rng.choice(["Nam", "Nữ"]),
                f"09{i:08d}",
                f"dv{i}@example.vn" if i % 3 == 0 else "",
                f"19/05/{year + 25}",
                f"19/05/{year + 26}",
                f"{rng.randint(0, 10**12 - 1):012d}",
                cells[i % len(cells)][2],
            ]
        )
    return rows


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode()


def _records(
    rows: list[list[str]], cells: list[tuple[uuid.UUID, str, str]], cipher: DataCipher
) -> list[tuple[Any, ...]]:
    """The same members as ``members`` records (as the import writes them)."""
    by_code = {code: cell_id for cell_id, _, code in cells}
    out = []
    for r in rows:
        member_id = uuid.uuid4()
        out.append(
            (
                member_id,
                r[0],
                r[1],
                fields.fold(r[1]),
                fields.parse_date(r[2]),
                fields.sex(r[3]),
                r[4],
                r[5] or None,
                fields.parse_date(r[6]),
                fields.parse_date(r[7]),
                "official",
                by_code[r[9]],
                "active",
                cipher.encrypt(r[8], f"citizen-id:{member_id}"),
            )
        )
    return out


async def _fresh_identity_db(infra: BenchInfra, name: str, created: list[str]) -> str:
    database = f"bench_{infra.tag}_{name}"
    await _admin(infra.admin_dsn, f'CREATE DATABASE "{database}"')
    created.append(database)
    dsn = infra.dsn(database)
    await migrations.upgrade_async(dsn, SPEC.versions_dir)
    return dsn


async def _import(
    infra: BenchInfra, dsn: str, province_path: str, data: bytes, n: int
) -> tuple[float, dict[str, int]]:
    settings = IdentitySettings(
        environment="test",
        database_url=dsn,
        nats_url=infra.nats_url,
        run_outbox_relay=False,
        run_consumers=False,
        log_level="WARNING",
    )
    app = create_app(settings)
    factory = TokenFactory()
    async with app.router.lifespan_context(app):
        factory.install(app)
        token = factory.mint(
            org_path=province_path,
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            grants=[{"role": "org_admin", "org_path": province_path}],
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://identity", timeout=300
        ) as client:
            start = time.perf_counter()
            response = await client.post(
                "/api/v1/members/import",
                content=data,
                headers={"authorization": f"Bearer {token}", "content-type": "text/csv"},
            )
            elapsed = time.perf_counter() - start
        if response.status_code != 201:
            raise RuntimeError(f"import failed: {response.status_code} {response.text[:2000]}")
        if response.json()["imported"] != n:
            raise RuntimeError("import returned the wrong count")
        pool = app.state.resources.pool
        stored = {
            table: int(await pool.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608
            for table in ("members", "memberships", "accounts", "outbox")
        }
    if any(v != n for v in stored.values()):
        raise RuntimeError(f"import stored {stored}, expected {n} of each")
    return elapsed, stored


async def _raw_copy(dsn: str, records: list[tuple[Any, ...]]) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        start = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("members", records=records, columns=MEMBER_COLUMNS)
        elapsed = time.perf_counter() - start
        if await conn.fetchval("SELECT count(*) FROM members") != len(records):
            raise RuntimeError("raw COPY stored the wrong count")
        return elapsed
    finally:
        await conn.close()


async def main(infra: BenchInfra, n: int = DEFAULT_N) -> dict[str, Any]:
    created: list[str] = []
    try:
        import_dsn = await _fresh_identity_db(infra, "idimport", created)
        copy_dsn = await _fresh_identity_db(infra, "idcopy", created)
        province_path, cells = await _province(import_dsn)
        _, copy_cells = await _province(copy_dsn)
        rows = _rows(n, cells)
        data = _csv(rows)
        cipher = DataCipher(IdentitySettings(environment="test").data_key_bytes())
        # Same rows, the cells of the second database (same codes, other ids).
        records = _records(rows, copy_cells, cipher)

        import_s, _ = await _import(infra, import_dsn, province_path, data, n)
        copy_s = await _raw_copy(copy_dsn, records)
    finally:
        for database in reversed(created):
            with contextlib.suppress(Exception):
                await _admin(infra.admin_dsn, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    import_rate, copy_rate = n / import_s, n / copy_s
    result = {
        "n": n,
        "cells": CELLS,
        "csv_bytes": len(data),
        "import_seconds": round(import_s, 2),
        "import_rows_per_s": round(import_rate, 1),
        "raw_copy_rows_per_s": round(copy_rate, 1),
        "ratio": round(import_rate / copy_rate, 3),
        "aim": AIM,
    }
    print(
        f"identity import: {n:,} rows in {import_s:.1f} s = {import_rate:,.0f} rows/s; "
        f"raw COPY into members {copy_rate:,.0f} rows/s; ratio {result['ratio']:.2f} "
        f"(aim >= {AIM})"
    )
    return result


async def _run(n: int, own: bool) -> dict[str, Any]:
    async with bench_infra(own=own) as infra:
        print(f"bench: infrastructure = {infra.source}")
        return await main(infra, n=n)


def run(n: int = DEFAULT_N, *, own: bool = False) -> dict[str, Any]:
    """The benchmark on its own infrastructure (the running stack's, or private servers)."""
    return asyncio.run(_run(n, own))


if __name__ == "__main__":
    args = arg_parser(__doc__, DEFAULT_N).parse_args()
    quiet_logs()
    run(args.n, own=args.own)
