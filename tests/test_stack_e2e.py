"""The local stack as `make run` starts it: every part up behind the gateway, a crashed
service restarted, everything stopped afterwards, data kept for the next start."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from sotay_devstack.servers import free_port
from sotay_devstack.stack import Stack
from sotay_kit import messaging
from sotay_kit.topology import SERVICES

pytestmark = pytest.mark.e2e


def _stack(data: Path) -> Stack:
    return Stack(
        data, free_port(), {s.name: free_port() for s in SERVICES}, quiet=True, demo_month=False
    )


async def _streams(nats_url: str) -> set[str]:
    nc = await messaging.connect(nats_url, name="e2e")
    try:
        return {s.config.name or "" for s in await nc.jetstream().streams_info()}
    finally:
        await nc.close()


async def test_stack_runs_behind_the_gateway_restarts_crashes_and_stops_clean(
    server_tmp: Path,
) -> None:
    data = server_tmp / "data"
    stack = _stack(data)
    await asyncio.to_thread(stack.start)
    try:
        desc = json.loads((data / "stack.json").read_text())
        gateway = desc["gateway_url"]
        async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
            for svc in SERVICES:
                r = await client.get(f"/api/v1/{svc.name}/openapi.json")
                assert r.status_code == 200, (svc.name, r.text)
                assert r.json()["info"]["title"].endswith(svc.name)
                assert r.headers.get("x-request-id")
            r = await client.get("/api/v1/no-such-resource")
            assert r.status_code == 404
            assert r.headers["content-type"].startswith("application/problem+json")
        streams = await _streams(desc["nats_url"])
        assert {s.stream for s in SERVICES} | {"DLQ", "PUBLIC"} <= streams
        # Data written now must be there after a restart.
        conn = await asyncpg.connect(desc["services"]["identity"]["dsn"])
        await conn.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('còn đây')")
        await conn.close()
        # A crashed service is restarted, and the crash is logged.
        victim = stack.services["meetings"]
        assert victim.proc is not None
        old_pid = victim.proc.pid
        os.kill(old_pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                assert time.monotonic() < deadline, "meetings was not restarted"
                if victim.proc.pid != old_pid:
                    try:
                        r = await client.get(f"http://127.0.0.1:{victim.port}/readyz")
                        if r.status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                await asyncio.sleep(0.2)
        supervisor_log = (data / "logs" / "supervisor.log").read_text()
        assert '"service": "meetings"' in supervisor_log
        pids = stack.pids()
    finally:
        await asyncio.to_thread(stack.stop)
    alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    assert alive == [], f"processes left behind: {alive}"
    assert not (data / "stack.json").exists()

    # A second start on the same data directory works and finds the data.
    again = _stack(data)
    await asyncio.to_thread(again.start)
    try:
        conn = await asyncpg.connect(again.description()["services"]["identity"]["dsn"])
        assert await conn.fetchval("SELECT v FROM kept") == "còn đây"
        await conn.close()
    finally:
        await asyncio.to_thread(again.stop)
