"""Meetings check-in: check-ins/s through the meetings ASGI app ÷ requests/s of a bare FastAPI
endpoint returning a constant, same transport, same concurrency, same run (§11).

100 cells of 27 members (the province's village-cell average) each hold a meeting; at the
start every member of every cell checks in at once with the code their secretary's screen
shows. A check-in is the real thing: access-token verification (EdDSA, JWKS by ``kid``), the
meeting locked ``FOR KEY SHARE``, the roster row, the HMAC code, the attendance update and an
``AttendanceRecorded`` CloudEvent into the outbox — one transaction per request.

The identity projection is seeded with SQL (the bench is about check-ins, not about
projecting); meetings are scheduled through the API. ``n`` caps the number of check-ins.
The meetings database is a scratch database (``bench_<tag>_meetings``), dropped afterwards.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sotay_kit import db, migrations
from sotay_kit.clock import current_time
from sotay_kit.testing.tokens import TokenFactory
from sotay_meetings.app import SPEC, create_app
from sotay_meetings.settings import MeetingsSettings

from ._infra import BenchInfra, _admin, run_standalone

DEFAULT_N = 2_700
CELLS = 100
MEMBERS_PER_CELL = 27
DB_POOL = 20
WARMUP = 200
START = datetime(2030, 3, 4, 12, 30, tzinfo=UTC)  # 19:30 in Hà Nội


async def _database(infra: BenchInfra) -> str:
    name = f"bench_{infra.tag}_meetings"
    await _admin(infra.admin_dsn, f'CREATE DATABASE "{name}"')
    infra._databases.append(name)
    dsn = infra.dsn(name)
    await migrations.upgrade_async(dsn, SPEC.versions_dir)
    return dsn


async def _seed(dsn: str, cells: int) -> list[tuple[uuid.UUID, str, uuid.UUID, list[uuid.UUID]]]:
    """(cell id, path, secretary, members) per cell, written straight into the projection."""
    out = []
    orgs: list[tuple[Any, ...]] = [(uuid.uuid4(), None, "1", "province")]
    members: list[tuple[Any, ...]] = []
    grants: list[tuple[Any, ...]] = []
    for i in range(cells):
        cell_id, path = uuid.uuid4(), f"1.{i + 2}"
        orgs.append((cell_id, orgs[0][0], path, "cell"))
        ids = [uuid.uuid4() for _ in range(MEMBERS_PER_CELL)]
        members += [(m, cell_id, path) for m in ids]
        grants.append((uuid.uuid4(), ids[0], "cell_secretary", cell_id, path))
        out.append((cell_id, path, ids[0], ids))
    conn = await db.connect(dsn)
    try:
        await conn.executemany(
            "INSERT INTO idp_orgs (org_id, parent_id, path, kind, title, status, valid_from, "
            "revision) VALUES ($1, $2, $3, $4, 'bench', 'active', current_date, 1)",
            orgs,
        )
        await conn.executemany(
            "INSERT INTO idp_members (member_id, cell_id, org_path, membership, status, "
            "revision) VALUES ($1, $2, $3, 'official', 'active', 1)",
            members,
        )
        await conn.executemany(
            "INSERT INTO idp_grants (grant_id, member_id, role, org_id, org_path, active) "
            "VALUES ($1, $2, $3, $4, $5, true)",
            grants,
        )
    finally:
        await conn.close()
    return out


def _bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/bare")
    async def bare() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _burst(
    calls: list[Callable[[], Awaitable[httpx.Response]]],
) -> tuple[float, list[httpx.Response]]:
    start = time.perf_counter()
    responses = await asyncio.gather(*(c() for c in calls))
    return time.perf_counter() - start, list(responses)


async def main(infra: BenchInfra, n: int = DEFAULT_N) -> dict[str, Any]:
    cells = max(1, min(CELLS, n // MEMBERS_PER_CELL))
    dsn = await _database(infra)
    roster = await _seed(dsn, cells)
    settings = MeetingsSettings(
        environment="test",
        database_url=dsn,
        nats_url=infra.nats_url,
        db_pool_min=DB_POOL,
        db_pool_max=DB_POOL,
        run_outbox_relay=False,
        run_consumers=False,
        log_level="WARNING",
    )
    app = create_app(settings)
    clock = {"now": START - timedelta(days=3)}
    app.dependency_overrides[current_time] = lambda: clock["now"]
    tokens = TokenFactory()

    def token(member: uuid.UUID, cell: uuid.UUID, path: str, grants: list[Any]) -> str:
        return tokens.mint(
            member_id=member,
            cell_id=cell,
            org_path=path,
            grants=grants,
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            expires_in=3600,
        )

    async with app.router.lifespan_context(app):
        tokens.install(app)
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://meetings",
                limits=limits,
                timeout=120,
            ) as client,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=_bare_app()),
                base_url="http://bare",
                limits=limits,
                timeout=120,
            ) as bare,
        ):
            checkins: list[Callable[[], Awaitable[httpx.Response]]] = []
            for cell_id, path, secretary, members in roster:
                auth = {
                    "authorization": "Bearer "
                    + token(
                        secretary, cell_id, path, [{"role": "cell_secretary", "org_path": path}]
                    )
                }
                r = await client.post(
                    "/api/v1/meetings",
                    headers=auth,
                    json={
                        "org_id": str(cell_id),
                        "kind": "regular",
                        "title": "Sinh hoạt chi bộ",
                        "starts_at": START.isoformat(),
                        "ends_at": (START + timedelta(hours=2)).isoformat(),
                    },
                )
                if r.status_code != 201:
                    raise RuntimeError(f"scheduling failed: {r.status_code} {r.text[:200]}")
                meeting_id = r.json()["meetings"][0]["id"]
                clock["now"] = START
                code_r = await client.get(
                    f"/api/v1/meetings/{meeting_id}/checkin-code", headers=auth
                )
                clock["now"] = START - timedelta(days=3)
                code = code_r.json()["code"]
                for member in members:
                    headers = {"authorization": "Bearer " + token(member, cell_id, path, [])}

                    def call(
                        url: str = f"/api/v1/meetings/{meeting_id}/checkin",
                        headers: dict[str, str] = headers,
                        body: dict[str, str] = {"code": code},  # noqa: B006 - bound per call
                    ) -> Awaitable[httpx.Response]:
                        return client.post(url, json=body, headers=headers)

                    checkins.append(call)
            total = len(checkins)
            clock["now"] = START + timedelta(seconds=5)  # same 30-s step as the codes

            # Warm both paths (connections, JWKS, caches), then measure each burst.
            await _burst([lambda: bare.post("/bare") for _ in range(WARMUP)])
            bare_s, bare_rs = await _burst([lambda: bare.post("/bare") for _ in range(total)])
            if any(r.status_code != 200 for r in bare_rs):
                raise RuntimeError("bare endpoint failed")
            checkin_s, responses = await _burst(checkins)
            failed = [r for r in responses if r.status_code != 200]
            if failed:
                raise RuntimeError(
                    f"{len(failed)} check-ins failed: {failed[0].status_code} {failed[0].text}"
                )
            recorded = await app.state.resources.pool.fetchval(
                "SELECT count(*) FROM outbox WHERE subject = 'meetings.attendance.recorded.v1'"
            )
            if recorded != total:
                raise RuntimeError(f"{recorded} attendance events for {total} check-ins")

    checkin_rate, bare_rate = total / checkin_s, total / bare_s
    result = {
        "n": total,
        "cells": cells,
        "members_per_cell": MEMBERS_PER_CELL,
        "db_pool": DB_POOL,
        "checkins_per_s": round(checkin_rate, 1),
        "bare_per_s": round(bare_rate, 1),
        "ratio": round(checkin_rate / bare_rate, 3),
        "aim": 0.1,
        "checkin_ms_mean": round(checkin_s / total * 1e3, 3),
    }
    print(
        f"meetings: {checkin_rate:,.0f} check-ins/s ({total} members of {cells} cells at once), "
        f"bare endpoint {bare_rate:,.0f} req/s, ratio {result['ratio']:.2f} (aim >= 0.1)"
    )
    return result


if __name__ == "__main__":
    run_standalone(main, __doc__, DEFAULT_N)
