"""Through the gateway: the platform as ``make run`` starts it (every service a process behind
Caddy, the small demo province), driven by a load generator at a fixed concurrency for a fixed
time, each figure beside the limit measured BY THE SAME GENERATOR IN THE SAME RUN: a bare FastAPI
endpoint returning a constant, served by uvicorn like the services (in a subprocess, hit
directly; DESIGN.md §11). Requests/s, p50 and p99 latency for each.

The generator is ``wrk`` (``bench/loadgen.py``; installed from Debian's package when missing and
running as root), faster than any server here, so the figures are the servers'. Without it the
async httpx generator is used and says so: its own limit is close to the servers', so its
ratios describe the generator (docs/performance.md).

- ``healthz``: ``GET /healthz`` of the identity service, hit directly: uvicorn + kit's app
  without a database or a token.
- ``me_direct``: ``GET /api/v1/me`` on the identity service's own port (no gateway hop).
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
  The figure is over the check-ins available (count-bound, not time-bound). A code is good
  for one to two 30-s steps only, so the codes are read right before the check-ins, after all
  the meetings are scheduled, and the run is cut to the time the codes have left.
- ``logins``: ``POST /api/v1/auth/login`` of the demo member and secretary (argon2id verify,
  counters, token signing, refresh token, audit entry) — argon2-bound.

The stack is always a private one, in a temporary directory on free ports: the bench writes
(10,000 documents, reads, meetings, logins) and a running stack's data is never touched
(``bench/_infra.py``). Start-up (~20 s) is not measured.

    uv run python -m bench.gateway [--duration 5] [--concurrency 32] [--generator httpx]
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
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from argon2 import PasswordHasher
from sotay_devstack.servers import free_port
from sotay_devstack.stack import Stack
from sotay_identity.settings import IdentitySettings
from sotay_kit.topology import SERVICES

from . import documents, loadgen
from ._infra import RESULTS_DIR, BenchInfra, quiet_logs

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


# ── the servers ─────────────────────────────────────────────────────────────────────────────


@contextlib.asynccontextmanager
async def private_stack() -> AsyncIterator[tuple[Stack, dict[str, Any], dict[str, Any]]]:
    """The platform with the small demo province in a temporary directory, free ports."""
    tmp = Path(tempfile.mkdtemp(prefix="sotay-bench-gateway-"))
    stack = Stack(
        tmp, free_port(), {s.name: free_port() for s in SERVICES}, quiet=True, demo_month=False
    )
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
) -> list[str]:
    """``count`` meetings of the demo cell starting in 5 minutes (the check-in window opens 30
    minutes before the start): their ids."""
    starts = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    plan = {
        "org_id": cell_id,
        "kind": "thematic",
        "title": "Sinh hoạt chuyên đề (đo tải)",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
    }
    lanes = asyncio.Semaphore(16)

    async def one(_: int) -> str:
        async with lanes:
            r = await client.post("/api/v1/meetings", json=plan, headers=secretary)
            if r.status_code != 201:
                raise RuntimeError(f"schedule: {r.status_code} {r.text[:300]}")
            return str(r.json()["meetings"][0]["id"])

    return list(await asyncio.gather(*(one(i) for i in range(count))))


@dataclass(frozen=True)
class ShownCode:
    code: str
    valid_until: float  # time.monotonic() after which the service answers "code-expired"


async def current_codes(
    client: httpx.AsyncClient, secretary: dict[str, str], meeting_ids: list[str]
) -> dict[str, ShownCode]:
    """The code each meeting's screen shows now. A code changes every ``step_seconds`` and the
    current and the previous one are accepted (``sotay_meetings.meetings.checkin``), so the
    code read now is good until ``expires_at + step_seconds``: read them right before the
    check-ins, never after scheduling (300 meetings take longer than that on a loaded machine)."""
    lanes = asyncio.Semaphore(16)

    async def one(meeting_id: str) -> tuple[str, ShownCode]:
        async with lanes:
            asked = time.monotonic()
            wall = datetime.now(UTC)
            r = await client.get(f"/api/v1/meetings/{meeting_id}/checkin-code", headers=secretary)
            if r.status_code != 200:
                raise RuntimeError(f"checkin-code: {r.status_code} {r.text[:300]}")
            shown = r.json()
            expires = datetime.fromisoformat(shown["expires_at"])
            left = (expires - wall).total_seconds() + shown["step_seconds"]
            return meeting_id, ShownCode(str(shown["code"]), asked + left)

    return dict(await asyncio.gather(*(one(m) for m in meeting_ids)))


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


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    load: loadgen.Load
    via: str  # "gateway" (through Caddy) or "direct" (the service's own port)


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


async def measure(
    duration: float = DURATION, concurrency: int = CONCURRENCY, generator: str = "auto"
) -> dict[str, Any]:
    started = time.perf_counter()
    gen = loadgen.choose(concurrency, allow_wrk=generator != "httpx")
    for note in gen.notes:
        print(f"gateway: {note}")
    load_before = os.getloadavg()
    async with private_stack() as (_, description, creds), bare_server() as bare_url:
        ready = time.perf_counter() - started
        gateway = description["gateway_url"]
        identity_url = description["services"]["identity"]["url"]
        cell_id = creds["orgs"]["cell_id"]
        rng = random.Random(21)
        doc_ids = [
            str(d) for d in await documents.fill(description["services"]["documents"]["dsn"], rng)
        ]
        async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
            member = await login(client, creds["member"])
            secretary = await login(client, creds["secretary"])
            readers = [member["authorization"], secretary["authorization"]]
            sample = await client.get(
                "/api/v1/documents", params={"q": documents.QUERIES[0]}, headers=member
            )
            if not sample.json()["items"]:
                raise RuntimeError("search found nothing")

            def target(base: str, requests: list[loadgen.Request], **kw: Any) -> loadgen.Target:
                return loadgen.Target(base, requests, **kw)

            me = loadgen.Request("/api/v1/me", readers[0])
            searches = [
                loadgen.Request(f"/api/v1/documents?{urlencode({'q': q})}", readers[0])
                for q in documents.QUERIES
            ]
            progress_posts = [
                loadgen.Request(
                    f"/api/v1/documents/{doc_ids[(i * 7919) % len(doc_ids)]}/reads",
                    readers[i % 2],
                    _json({"progress_percent": (i // 3) % 101}),
                )
                for i in range(20_000)
            ]
            logins = [
                loadgen.Request(
                    "/api/v1/auth/login",
                    body=_json({"username": who["username"], "password": who["password"]}),
                )
                for who in (creds["member"], creds["secretary"])
            ]
            bare = target(bare_url, [loadgen.Request("/bare")])
            figures: list[Figure] = []

            async def figure(
                key: str, label: str, via: str, tgt: loadgen.Target, seconds: float = duration
            ) -> None:
                figures.append(Figure(key, label, await gen.run(tgt, seconds), via))

            bare_1 = await gen.run(bare, duration)
            await figure(
                "healthz",
                "GET /healthz (identity)",
                "direct",
                target(identity_url, [loadgen.Request("/healthz")]),
            )
            await figure(
                "me_direct", "GET /api/v1/me (member)", "direct", target(identity_url, [me])
            )
            await figure("me", "GET /api/v1/me (member)", "gateway", target(gateway, [me]))
            await figure(
                "search",
                f"documents search, {documents.DOCUMENTS:,} docs",
                "gateway",
                target(gateway, searches),
            )
            await figure(
                "progress",
                "documents read-progress posts",
                "gateway",
                target(gateway, progress_posts, method="POST"),
            )

            meeting_ids = await schedule_open_meetings(client, secretary, cell_id, CHECKIN_MEETINGS)
            codes = await current_codes(client, secretary, meeting_ids)
            # The run ends before the oldest code read expires (the figure is count-bound, so
            # a shorter run only matters if the check-ins take longer than the codes last).
            window = min(c.valid_until for c in codes.values()) - time.monotonic() - 2
            if window < min(duration, 5):  # read so slowly that the first ones are old already
                codes = await current_codes(client, secretary, meeting_ids)
                window = min(c.valid_until for c in codes.values()) - time.monotonic() - 2
            checkins = [
                loadgen.Request(
                    f"/api/v1/meetings/{m}/checkin", who, _json({"code": codes[m].code})
                )
                for m in meeting_ids
                for who in readers
            ]
            await figure(
                "checkins",
                f"meeting check-ins ({len(checkins)} available)",
                "gateway",
                target(
                    gateway,
                    checkins,
                    method="POST",
                    once=True,
                    duplicate='"already_recorded":true',
                ),
                seconds=max(1.0, min(duration, window)),
            )
            await figure(
                "logins",
                "logins (argon2id)",
                "gateway",
                target(gateway, logins, method="POST"),
            )
            bare_2 = await gen.run(bare, duration)
    load_after = os.getloadavg()

    bare_rate = (bare_1.rate + bare_2.rate) / 2
    ceiling = argon2_ceiling()
    by_key = {f.key: f.load for f in figures}

    def ratio(load: loadgen.Load) -> float:
        return round(load.rate / bare_rate, 3)

    result = {
        "generator": gen.name,
        "concurrency": concurrency,
        "duration_s": duration,
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
        "cores": os.cpu_count(),
        "stack_start_s": round(ready, 1),
        "bare_per_s": round(bare_rate, 1),
        "bare_runs_per_s": [round(bare_1.rate, 1), round(bare_2.rate, 1)],
        "bare_p50_ms": round((bare_1.p50_ms + bare_2.p50_ms) / 2, 2),
        "bare_p99_ms": round(max(bare_1.p99_ms, bare_2.p99_ms), 2),
        "figures": {
            f.key: {
                "what": f.label,
                "via": f.via,
                "per_s": round(f.load.rate, 1),
                "p50_ms": round(f.load.p50_ms, 2),
                "p99_ms": round(f.load.p99_ms, 2),
                "ratio": ratio(f.load),
            }
            for f in figures
        },
        "me_per_s": round(by_key["me"].rate, 1),
        "ratio": ratio(by_key["me"]),
        "search_per_s": round(by_key["search"].rate, 1),
        "search_ratio": ratio(by_key["search"]),
        "documents": documents.DOCUMENTS,
        "progress_per_s": round(by_key["progress"].rate, 1),
        "progress_ratio": ratio(by_key["progress"]),
        "checkins": by_key["checkins"].requests,
        "checkins_per_s": round(by_key["checkins"].rate, 1),
        "checkin_ratio": ratio(by_key["checkins"]),
        "logins_per_s": round(by_key["logins"].rate, 1),
        "login_ratio": ratio(by_key["logins"]),
        "argon2_ceiling_per_s": round(ceiling, 1),
        # The API figure of §11 (me ÷ bare): a gateway hop, token verification and a Postgres
        # read against a constant served directly, both measured by the same generator.
        "aim": 0.25,
        "total_s": round(time.perf_counter() - started, 1),
    }
    print(
        f"gateway: generator {gen.name}, {concurrency} connections, {duration:.0f} s per figure; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
        f"({os.cpu_count()} cores)"
    )
    print(
        f"  {'figure':<44} {'via':<8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  "
        f"{'bare /s':>8}  ratio"
    )
    print(
        f"  {'bare FastAPI endpoint (uvicorn)':<44} {'direct':<8} {bare_rate:>8,.0f} "
        f"{result['bare_p50_ms']:>8.1f} {result['bare_p99_ms']:>8.1f}  "
        f"{'':>8}  ({bare_1.rate:,.0f} / {bare_2.rate:,.0f})"
    )
    for f in figures:
        print(
            f"  {f.label:<44} {f.via:<8} {f.load.rate:>8,.0f} {f.load.p50_ms:>8.1f} "
            f"{f.load.p99_ms:>8.1f}  {bare_rate:>8,.0f}  {f.load.rate / bare_rate:.3f}"
        )
    print(f"  (argon2id verify ceiling: {ceiling:,.0f} logins/s on {os.cpu_count()} cores)")
    if isinstance(gen, loadgen.Httpx):
        print(f"gateway: {loadgen.HTTPX_WARNING}")
    return result


async def main(infra: BenchInfra | None = None, n: int | None = None) -> dict[str, Any]:
    """Entry of ``python -m bench``: the infrastructure and ``n`` are not used (the bench
    starts a private platform and measures for a fixed time)."""
    return await measure()


def cli() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=DURATION, help="seconds per figure")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument(
        "--generator",
        choices=("auto", "httpx"),
        default="auto",
        help="auto: wrk (installed when missing and root), else httpx; httpx: the fallback",
    )
    args = parser.parse_args()
    quiet_logs()
    result = asyncio.run(measure(args.duration, args.concurrency, args.generator))
    path = record(result)
    print(f"results: {path.relative_to(RESULTS_DIR.parent.parent)} (benchmarks.gateway)")
    return result


def record(result: dict[str, Any]) -> Path:
    """Put this run's figures into ``bench/results/latest.json`` under ``benchmarks.gateway``,
    keeping the other benchmarks' entries of the last ``make bench``."""
    path = RESULTS_DIR / "latest.json"
    try:
        report: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        report = {}
    report.setdefault("benchmarks", {})["gateway"] = {
        **result,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return path


if __name__ == "__main__":
    cli()
