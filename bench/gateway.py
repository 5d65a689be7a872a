"""Through the gateway: the platform as ``make run`` starts it (every service a process behind
Caddy, the small demo province), driven by one async httpx load generator at a fixed concurrency
for a fixed time, each figure beside the limit of the same generator on a bare FastAPI endpoint
returning a constant (uvicorn, in a subprocess, hit directly) in the same run (DESIGN.md §11).

- ``me``: ``GET /api/v1/me`` as the demo member — the API figure of §11 (a real authenticated
  read: gateway hop, EdDSA token verification, a Postgres read, the JSON answer).
- ``search``: ``GET /api/v1/documents?q=…`` as the demo member over 10,000 documents (issue 4):
  the library is filled straight into the documents database with ``bench.documents.fill``
  (all published to the province root, so every one is visible to the member and ranked).
- ``progress``: ``POST /api/v1/documents/{id}/reads`` by the demo member and secretary on those
  documents (issue 4): transaction, row lock, an outbox event per 10-point step, relay running.
- ``checkins``: ``POST /api/v1/meetings/{id}/checkin`` with the code the secretary's screen
  shows (issue 5). The demo gives passwords to three accounts only, and the admin is not in the
  demo cell, so the accounts that can check in are the demo member and secretary: the secretary
  schedules many meetings of the demo cell whose check-in window is open and both check into
  each one — every request a first check-in (a write and an ``AttendanceRecorded`` event).
  The figure is over the check-ins available (count-bound, not time-bound).
- ``logins``: ``POST /api/v1/auth/login`` of the demo member and secretary (argon2id verify,
  counters, token signing, refresh token, audit entry) — argon2-bound.

The stack is always a private one, in a temporary directory on free ports: the bench writes
(10,000 documents, reads, meetings, logins) and a running stack's data is never touched
(``bench/_infra.py``). Start-up (~20 s) is not measured.

    uv run python -m bench.gateway [--duration 5] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from sotay_devstack.servers import free_port
from sotay_devstack.stack import Stack
from sotay_identity.settings import IdentitySettings
from sotay_kit.topology import SERVICES

from . import documents
from ._infra import BenchInfra, quiet_logs

CONCURRENCY = 32
DURATION = 5.0  # seconds per measurement
WARMUP = 0.5  # seconds before each measurement, not counted
CHECKIN_MEETINGS = 300  # × 2 accounts = the check-ins available

BARE_APP = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/bare")
async def bare() -> dict[str, bool]:
    return {"ok": True}
"""


@dataclass
class Load:
    requests: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


async def drive(
    base_url: str,
    request: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
    *,
    duration: float,
    concurrency: int,
    limit: int | None = None,
    warmup: float = WARMUP,
    expect: int = 200,
) -> Load:
    """``concurrency`` workers issue ``request(client, i)`` back to back for ``duration`` s (or
    until ``limit`` requests); answers other than ``expect`` abort the bench.

    Each worker has its own httpx client with one keep-alive connection: one client with a pool
    of 32 connections spends its time in the pool (≈ 350 req/s against the bare endpoint on the
    2-core machine, ≈ 1,500 req/s this way)."""
    clients = [
        httpx.AsyncClient(
            base_url=base_url,
            timeout=60,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        for _ in range(concurrency)
    ]
    done = 0

    async def run(seconds: float, counter: Iterator[int], count: bool) -> float:
        nonlocal done
        deadline = time.perf_counter() + seconds

        async def worker(client: httpx.AsyncClient) -> None:
            nonlocal done
            for i in counter:
                if time.perf_counter() >= deadline:
                    return
                r = await request(client, i)
                if r.status_code != expect:
                    raise RuntimeError(f"{r.request.url.path}: {r.status_code} {r.text[:300]}")
                done += count

        start = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in clients))
        return time.perf_counter() - start

    try:
        counter: Iterator[int] = iter(range(limit)) if limit is not None else _count()
        if warmup:
            await run(warmup, counter, count=False)  # the numbering goes on after the warm-up
        seconds = await run(duration, counter, count=True)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return Load(done, seconds)


def _count() -> Iterator[int]:
    i = 0
    while True:
        yield i
        i += 1


# ── the servers ─────────────────────────────────────────────────────────────────────────────


@contextlib.asynccontextmanager
async def private_stack() -> AsyncIterator[tuple[Stack, dict[str, Any], dict[str, Any]]]:
    """The platform with the small demo province in a temporary directory, free ports."""
    tmp = Path(tempfile.mkdtemp(prefix="sotay-bench-gateway-"))
    stack = Stack(tmp, free_port(), {s.name: free_port() for s in SERVICES}, quiet=True)
    try:
        await asyncio.to_thread(stack.start)
        description = json.loads((tmp / "stack.json").read_text())
        credentials = json.loads((tmp / "demo-credentials.json").read_text())
        yield stack, description, credentials
    finally:
        await asyncio.to_thread(stack.stop)
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.asynccontextmanager
async def bare_server() -> AsyncIterator[str]:
    """A bare FastAPI app returning a constant, served by uvicorn like the services are."""
    tmp = Path(tempfile.mkdtemp(prefix="sotay-bench-bare-"))
    (tmp / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "uvicorn",
        "bare_app:app",
        "--app-dir",
        str(tmp),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=1) as probe:
            deadline = time.monotonic() + 20
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await probe.get(f"{url}/bare")).status_code == 200:
                        break
                if proc.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError("the bare uvicorn server did not start")
                await asyncio.sleep(0.1)
        yield url
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


# ── the demo accounts ───────────────────────────────────────────────────────────────────────


async def login(client: httpx.AsyncClient, creds: dict[str, Any]) -> dict[str, str]:
    body = {"username": creds["username"], "password": creds["password"]}
    r = await client.post("/api/v1/auth/login", json=body)
    if r.status_code != 200:
        raise RuntimeError(f"login: {r.status_code} {r.text[:300]}")
    return {"authorization": f"Bearer {r.json()['access_token']}"}


async def schedule_open_meetings(
    client: httpx.AsyncClient, secretary: dict[str, str], cell_id: str, count: int
) -> list[tuple[str, str]]:
    """``count`` meetings of the demo cell starting in 5 minutes (the check-in window opens 30
    minutes before the start), with the code each one's screen shows now: (meeting id, code)."""
    starts = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    plan = {
        "org_id": cell_id,
        "kind": "thematic",
        "title": "Sinh hoạt chuyên đề (đo tải)",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
    }
    lanes = asyncio.Semaphore(16)

    async def one(_: int) -> tuple[str, str]:
        async with lanes:
            r = await client.post("/api/v1/meetings", json=plan, headers=secretary)
            if r.status_code != 201:
                raise RuntimeError(f"schedule: {r.status_code} {r.text[:300]}")
            meeting_id = r.json()["meetings"][0]["id"]
            r = await client.get(f"/api/v1/meetings/{meeting_id}/checkin-code", headers=secretary)
            if r.status_code != 200:
                raise RuntimeError(f"checkin-code: {r.status_code} {r.text[:300]}")
            return meeting_id, str(r.json()["code"])

    return list(await asyncio.gather(*(one(i) for i in range(count))))


def argon2_ceiling() -> float:
    """Logins/s the CPUs allow at identity's argon2id parameters: cores ÷ one verify (median
    of 7, timed alone in this process)."""
    settings = IdentitySettings.model_fields
    hasher = PasswordHasher(
        time_cost=settings["argon2_time_cost"].default,
        memory_cost=settings["argon2_memory_kib"].default,
        parallelism=settings["argon2_parallelism"].default,
    )
    digest = hasher.hash("Demo-mật-khẩu")
    times = []
    for _ in range(7):
        start = time.perf_counter()
        hasher.verify(digest, "Demo-mật-khẩu")
        times.append(time.perf_counter() - start)
    return (os.cpu_count() or 1) / statistics.median(times)


# ── the measurements ────────────────────────────────────────────────────────────────────────


async def measure(duration: float = DURATION, concurrency: int = CONCURRENCY) -> dict[str, Any]:
    started = time.perf_counter()
    async with private_stack() as (_, description, creds), bare_server() as bare_url:
        ready = time.perf_counter() - started
        gateway = description["gateway_url"]
        cell_id = creds["orgs"]["cell_id"]
        rng = random.Random(21)
        doc_ids = [
            str(d) for d in await documents.fill(description["services"]["documents"]["dsn"], rng)
        ]
        async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
            member = await login(client, creds["member"])
            secretary = await login(client, creds["secretary"])
            readers = [member, secretary]

            async def constant(c: httpx.AsyncClient, i: int) -> httpx.Response:
                return await c.get("/bare")

            async def me(c: httpx.AsyncClient, i: int) -> httpx.Response:
                return await c.get("/api/v1/me", headers=member)

            async def search(c: httpx.AsyncClient, i: int) -> httpx.Response:
                q = documents.QUERIES[i % len(documents.QUERIES)]
                return await c.get("/api/v1/documents", params={"q": q}, headers=member)

            async def progress(c: httpx.AsyncClient, i: int) -> httpx.Response:
                doc = doc_ids[(i * 7919) % len(doc_ids)]
                return await c.post(
                    f"/api/v1/documents/{doc}/reads",
                    json={"progress_percent": (i // 3) % 101},
                    headers=readers[i % 2],
                )

            accounts = [creds["member"], creds["secretary"]]

            async def log_in(c: httpx.AsyncClient, i: int) -> httpx.Response:
                who = accounts[i % 2]
                body = {"username": who["username"], "password": who["password"]}
                return await c.post("/api/v1/auth/login", json=body)

            sample = (await search(client, 0)).json()["items"]
            if not sample:
                raise RuntimeError("search found nothing")
            run = {"duration": duration, "concurrency": concurrency}
            bare_1 = await drive(bare_url, constant, **run)
            me_load = await drive(gateway, me, **run)
            search_load = await drive(gateway, search, **run)
            progress_load = await drive(gateway, progress, **run)

            meetings = await schedule_open_meetings(client, secretary, cell_id, CHECKIN_MEETINGS)
            pairs = [(m, code, who) for m, code in meetings for who in readers]

            async def checkin(c: httpx.AsyncClient, i: int) -> httpx.Response:
                meeting_id, code, who = pairs[i]
                return await c.post(
                    f"/api/v1/meetings/{meeting_id}/checkin", json={"code": code}, headers=who
                )

            checkin_load = await drive(gateway, checkin, **run, limit=len(pairs), warmup=0)
            login_load = await drive(gateway, log_in, **run)
            bare_2 = await drive(bare_url, constant, **run)

    bare = (bare_1.rate + bare_2.rate) / 2
    ceiling = argon2_ceiling()

    def ratio(load: Load) -> float:
        return round(load.rate / bare, 3)

    result = {
        "concurrency": concurrency,
        "duration_s": duration,
        "stack_start_s": round(ready, 1),
        "bare_per_s": round(bare, 1),
        "bare_runs_per_s": [round(bare_1.rate, 1), round(bare_2.rate, 1)],
        "me_per_s": round(me_load.rate, 1),
        "ratio": ratio(me_load),
        "search_per_s": round(search_load.rate, 1),
        "search_ratio": ratio(search_load),
        "documents": documents.DOCUMENTS,
        "progress_per_s": round(progress_load.rate, 1),
        "progress_ratio": ratio(progress_load),
        "checkins": checkin_load.requests,
        "checkins_per_s": round(checkin_load.rate, 1),
        "checkin_ratio": ratio(checkin_load),
        "logins_per_s": round(login_load.rate, 1),
        "login_ratio": ratio(login_load),
        "argon2_ceiling_per_s": round(ceiling, 1),
        # The API figure of §11 (me ÷ bare): a gateway hop, token verification and a Postgres
        # read against a constant served directly. Aim set from runs on the 2-core machine
        # where the load generator, Caddy, five services and Postgres share the CPUs.
        "aim": 0.25,
        "total_s": round(time.perf_counter() - started, 1),
    }
    rows = [
        ("GET /api/v1/me (member)", me_load),
        (f"documents search, {documents.DOCUMENTS:,} docs", search_load),
        ("documents read-progress posts", progress_load),
        (f"meeting check-ins ({checkin_load.requests} available)", checkin_load),
        ("logins (argon2id)", login_load),
    ]
    print(
        f"gateway: concurrency {concurrency}, {duration:.0f} s per figure; bare FastAPI endpoint "
        f"(uvicorn, direct) {bare:,.0f} req/s ({bare_1.rate:,.0f} / {bare_2.rate:,.0f})"
    )
    for name, load in rows:
        print(
            f"  {name:<44} {load.rate:>8,.0f} /s   bare {bare:>7,.0f} /s   "
            f"ratio {load.rate / bare:.3f}"
        )
    print(f"  (argon2id verify ceiling: {ceiling:,.0f} logins/s on {os.cpu_count()} cores)")
    return result


async def main(infra: BenchInfra | None = None, n: int | None = None) -> dict[str, Any]:
    """Entry of ``python -m bench``: the infrastructure and ``n`` are not used (the bench
    starts a private platform and measures for a fixed time)."""
    return await measure()


def cli() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=DURATION, help="seconds per figure")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    args = parser.parse_args()
    quiet_logs()
    result = asyncio.run(measure(args.duration, args.concurrency))
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    cli()
