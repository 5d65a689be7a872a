"""The run screen's live list: ``GET /api/v1/meetings/{id}`` polled by the secretary, answered
in full (200, the meeting with its roster) and revalidated with ``If-None-Match`` (304, no
body), through the gateway, driven by wrk at 8 connections for ``--duration`` seconds each,
with the CPU time of the meetings process (one worker) per request read around each run.

    uv run python -m bench.live_list [--duration 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
from typing import Any

import httpx

from . import gateway
from ._infra import quiet_logs
from .writes import _cpu_seconds, _tree_cpu_seconds

DURATION = 10.0
CONNECTIONS = 8


async def _wrk(url: str, headers: dict[str, str], seconds: float) -> tuple[float, float, int]:
    """(requests/s, p50 ms, non-2xx/3xx answers) of one wrk run."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("live_list: needs Debian's package wrk (apt-get install wrk)")
    args = [wrk, "-t2", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    proc = await asyncio.create_subprocess_exec(
        *args, url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out = (await proc.communicate())[0].decode()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p50_ms = float(p50.group(1)) * scale[p50.group(2)] if p50 else float("nan")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rate, p50_ms, int(bad.group(1)) if bad else 0


async def measure(duration: float = DURATION) -> dict[str, Any]:
    figures: dict[str, dict[str, Any]] = {}
    load_before = os.getloadavg()
    async with gateway.private_stack() as (stack, description, creds):
        assert stack.pg is not None and stack.pg.pid is not None
        gw = description["gateway_url"]
        pid = description["services"]["meetings"]["pid"]
        async with httpx.AsyncClient(base_url=gw, timeout=60) as client:
            secretary = await gateway.login(client, creds["secretary"])
            (mid,) = await gateway.schedule_open_meetings(
                client, secretary, creds["orgs"]["cell_id"], 1
            )
            path = f"/api/v1/meetings/{mid}"
            full = await client.get(path, headers={"Authorization": secretary["authorization"]})
            assert full.status_code == 200, full.text
            tag = full.headers["etag"]
            auth = {"Authorization": secretary["authorization"]}
            again = await client.get(path, headers={**auth, "If-None-Match": tag})
            assert again.status_code == 304, again.status_code
            roster = len(full.json()["roster"] or [])
            for key, headers in (
                ("200 full", auth),
                ("304 revalidated", {**auth, "If-None-Match": tag}),
            ):
                await _wrk(gw + path, headers, 2)  # warm up
                cpu_0, pg_0 = _cpu_seconds(pid), _tree_cpu_seconds(stack.pg.pid)
                rate, p50, bad = await _wrk(gw + path, headers, duration)
                cpu_1, pg_1 = _cpu_seconds(pid), _tree_cpu_seconds(stack.pg.pid)
                n = max(rate * duration, 1)
                figures[key] = {
                    "per_s": round(rate, 1),
                    "p50_ms": round(p50, 1),
                    "bad": bad,
                    "service_cpu_ms": round((cpu_1 - cpu_0) * 1000 / n, 2),
                    "postgres_cpu_ms": round((pg_1 - pg_0) * 1000 / n, 2),
                    "bytes": len(full.content) if key.startswith("200") else 0,
                }
    load_after = os.getloadavg()
    print(
        f"live_list: wrk, {CONNECTIONS} connections, {duration:g} s each; the demo cell's meeting "
        f"({roster} on the roster); load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after ({os.cpu_count()} cores, shared)"
    )
    print(f"  {'answer':<18} {'req/s':>7} {'p50 ms':>7} {'svc ms':>7} {'pg ms':>6} {'body B':>7}")
    for key, f in figures.items():
        print(
            f"  {key:<18} {f['per_s']:>7,.0f} {f['p50_ms']:>7.1f} {f['service_cpu_ms']:>7.2f} "
            f"{f['postgres_cpu_ms']:>6.2f} {f['bytes']:>7}"
            + (f"  ({f['bad']} bad)" if f["bad"] else "")
        )
    return figures


def cli() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=DURATION, help="seconds per figure")
    args = parser.parse_args()
    quiet_logs()
    return asyncio.run(measure(args.duration))


if __name__ == "__main__":
    cli()
