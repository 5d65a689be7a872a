"""The write paths members wait on, per core: read-progress posts (``POST
/api/v1/documents/{id}/reads``) and meeting check-ins (``POST /api/v1/meetings/{id}/checkin``)
through the gateway, driven by wrk (``bench/loadgen.py``) beside the bare FastAPI endpoint
measured by the same generator in the same run, with p50/p99 at 32 connections.

"Per core" is read from CPU time, not from the rate: the machine is shared, so the rate says
how much CPU the service got, while the CPU time the service process (one worker) and its
Postgres server (all backends) spent per request says what a request costs. Both are
printed: requests/s, and requests per CPU-second of the service process (what one core
serves) and of Postgres.

The platform is a private copy of ``make run`` (``bench.gateway.private_stack``): progress
posts by the demo member and secretary over 2,000 documents filled with COPY; check-ins of both
into meetings of the demo cell the secretary schedules (each a first check-in: a row lock, an
update and an ``AttendanceRecorded`` outbox row), count-bound (``bench.gateway``).

``--profile DIR`` also records each figure's service with py-spy (raw collapsed stacks, 200 Hz)
and prints the top frames by own time of the request-handling samples.

    uv run python -m bench.writes [--duration 10] [--meetings 300] [--profile DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import shutil
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from . import documents, gateway, loadgen
from ._infra import quiet_logs

DURATION = 10.0
MEETINGS = 300
DOCUMENTS = 2_000
WARMUP_POSTS = 2_000  # progress posts sent before the measured ones, not counted
WARMUP_MEETINGS = 20  # × 2 check-ins sent before the measured ones, not counted
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _tree_cpu_seconds(root: int) -> float:
    """CPU seconds of ``root`` and its children (Postgres: the postmaster and its backends;
    a backend that exits during the run takes its time with it, so keep connections pooled)."""
    total = _cpu_seconds(root)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == root:
            total += _cpu_seconds(int(entry.name))
    return total


def _py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


@contextlib.asynccontextmanager
async def profiled(pid: int, out: Path | None) -> AsyncIterator[None]:
    """py-spy recording ``pid`` while the body runs (nothing when ``out`` is None)."""
    spy = _py_spy()
    if out is None or spy is None:
        yield
        return
    proc = await asyncio.create_subprocess_exec(
        spy, "record", "-p", str(pid), "-r", "200", "-f", "raw", "-o", str(out),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.sleep(1.0)  # attached before the load starts
    try:
        yield
    finally:
        proc.send_signal(2)  # SIGINT: py-spy writes its file and exits
        await proc.wait()


def top_frames(path: Path, n: int = 12) -> list[tuple[str, float, float]]:
    """(frame, own share, cumulative share) of the request-handling samples of a raw py-spy
    file (stacks through uvicorn's ``run_asgi``), the ``n`` largest by own time."""
    own: collections.Counter[str] = collections.Counter()
    cumulative: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if "run_asgi" not in stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            cumulative[frame] += count
    if not total:
        return []
    return [(f, c / total, cumulative[f] / total) for f, c in own.most_common(n)]


async def measure(
    duration: float = DURATION, meetings: int = MEETINGS, profile: Path | None = None
) -> dict[str, Any]:
    gen = loadgen.choose(32)
    for note in gen.notes:
        print(f"writes: {note}")
    load_before = os.getloadavg()
    figures: dict[str, dict[str, Any]] = {}
    async with (
        gateway.private_stack() as (stack, description, creds),
        gateway.bare_server() as bare,
    ):
        assert stack.pg is not None and stack.pg.pid is not None
        pg_pid = stack.pg.pid
        gw = description["gateway_url"]
        services = description["services"]
        rng = random.Random(21)
        doc_ids = [
            str(d) for d in await documents.fill(services["documents"]["dsn"], rng, DOCUMENTS)
        ]
        async with httpx.AsyncClient(base_url=gw, timeout=60) as client:
            member = await gateway.login(client, creds["member"])
            secretary = await gateway.login(client, creds["secretary"])
            readers = [member["authorization"], secretary["authorization"]]
            bare_target = loadgen.Target(bare, [loadgen.Request("/bare")])
            bare_1 = await gen.run(bare_target, duration / 2)

            async def figure(
                key: str,
                service: str,
                target: loadgen.Target,
                seconds: float,
                warmup: loadgen.Target,
            ) -> None:
                """Warm the path up first (first requests import modules, open pooled
                connections, fetch the JWKS), then measure with CPU time read around the run."""
                await gen.run(warmup, 2, warmup=0)
                pid = services[service]["pid"]
                out = profile / f"{key}.txt" if profile is not None else None
                async with profiled(pid, out):
                    cpu_0, pg_0 = _cpu_seconds(pid), _tree_cpu_seconds(pg_pid)
                    load = await gen.run(target, seconds, warmup=0)
                    cpu_1, pg_1 = _cpu_seconds(pid), _tree_cpu_seconds(pg_pid)
                n = max(load.requests, 1)
                figures[key] = {
                    "per_s": round(load.rate, 1),
                    "p50_ms": round(load.p50_ms, 1),
                    "p99_ms": round(load.p99_ms, 1),
                    "requests": load.requests,
                    "service_cpu_ms": round((cpu_1 - cpu_0) * 1000 / n, 2),
                    "postgres_cpu_ms": round((pg_1 - pg_0) * 1000 / n, 2),
                    "profile": str(out) if out is not None else None,
                }

            posts = [
                loadgen.Request(
                    f"/api/v1/documents/{doc_ids[(i * 7919) % len(doc_ids)]}/reads",
                    readers[i % 2],
                    json.dumps({"progress_percent": (i // 3) % 101}),
                )
                for i in range(20_000)
            ]
            await figure(
                "progress",
                "documents",
                loadgen.Target(gw, posts[WARMUP_POSTS:], method="POST"),
                duration,
                loadgen.Target(gw, posts[:WARMUP_POSTS], method="POST"),
            )

            ids = await gateway.schedule_open_meetings(
                client, secretary, creds["orgs"]["cell_id"], meetings + WARMUP_MEETINGS
            )
            codes = await gateway.current_codes(client, secretary, ids)
            window = min(c.valid_until for c in codes.values()) - time.monotonic() - 2
            checkins = [
                loadgen.Request(
                    f"/api/v1/meetings/{m}/checkin", who, json.dumps({"code": codes[m].code})
                )
                for m in ids
                for who in readers
            ]

            def once(requests: list[loadgen.Request]) -> loadgen.Target:
                return loadgen.Target(
                    gw, requests, method="POST", once=True, duplicate='"already_recorded":true'
                )

            warm = 2 * WARMUP_MEETINGS
            await figure(
                "checkins",
                "meetings",
                once(checkins[warm:]),
                max(1.0, min(duration, window - 3)),  # the warm-up spends part of the window
                once(checkins[:warm]),
            )
            bare_2 = await gen.run(bare_target, duration / 2)
    load_after = os.getloadavg()
    bare_rate = (bare_1.rate + bare_2.rate) / 2
    for f in figures.values():
        f["ratio"] = round(f["per_s"] / bare_rate, 3)
        f["per_service_core_s"] = (
            round(1000 / f["service_cpu_ms"], 1) if f["service_cpu_ms"] else None
        )
        f["per_postgres_core_s"] = (
            round(1000 / f["postgres_cpu_ms"], 1) if f["postgres_cpu_ms"] else None
        )
    print(
        f"writes: generator {gen.name}, 32 connections; load average {load_before[0]:.2f} "
        f"before, {load_after[0]:.2f} after ({os.cpu_count()} cores, machine shared with other "
        "work); CPU ms per request of the service process (one worker) and of Postgres"
    )
    print(
        f"  {'figure':<24} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} "
        f"{'svc ms':>7} {'pg ms':>6} {'req/svc core-s':>15}"
    )
    print(f"  {'bare endpoint':<24} {bare_rate:>7,.0f}   ({bare_1.rate:,.0f} / {bare_2.rate:,.0f})")
    for key, f in figures.items():
        print(
            f"  {key + ' (' + str(f['requests']) + ')':<24} {f['per_s']:>7,.1f} "
            f"{f['p50_ms']:>8.1f} {f['p99_ms']:>8.1f} {f['ratio']:>6.3f} "
            f"{f['service_cpu_ms']:>7.2f} {f['postgres_cpu_ms']:>6.2f} "
            f"{f['per_service_core_s'] or 0:>15,.0f}"
        )
        if f["profile"]:
            print(f"    top frames by own time ({f['profile']}):")
            for frame, own, cum in top_frames(Path(f["profile"])):
                print(f"      {own:6.1%} own {cum:6.1%} cum  {frame[:110]}")
    if isinstance(gen, loadgen.Httpx):
        print(f"writes: {loadgen.HTTPX_WARNING}")
    return {
        "generator": gen.name,
        "bare_per_s": round(bare_rate, 1),
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
        "figures": figures,
    }


def cli() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=DURATION, help="seconds per figure")
    parser.add_argument("--meetings", type=int, default=MEETINGS, help="× 2 check-ins")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy output directory")
    args = parser.parse_args()
    quiet_logs()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    return asyncio.run(measure(args.duration, args.meetings, args.profile))


if __name__ == "__main__":
    cli()
