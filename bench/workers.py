"""Each service with one uvicorn worker, then with one per core: how the authenticated read
path scales with the workers, and each worker's memory under that load.

Two private stacks in turn (the small demo, temporary directories, free ports), the first with
one worker per service, the second with ``os.cpu_count()``. Each: ``GET /api/v1/me`` (identity)
and ``GET /api/v1/documents/to-study`` (documents) as the demo member through the gateway, by
``wrk`` at 32 connections, beside the bare endpoint measured by the same generator in the same
run; then the resident memory (RSS) of every worker process of every service, read while the
load runs. The scaling factor is the N-worker rate over the one-worker rate; on a machine whose
cores also run Postgres, the gateway and the generator it stays well below N.

    uv run python -m bench.workers [--duration 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]
from sotay_devstack.servers import free_port
from sotay_devstack.stack import Stack
from sotay_kit.topology import SERVICES

from . import loadgen
from ._infra import RESULTS_DIR, quiet_logs
from .gateway import bare_server, login

CONCURRENCY = 32
DURATION = 5.0
RSS_AIM_MB = 150


@contextlib.asynccontextmanager
async def stack_with(workers: int) -> AsyncIterator[tuple[dict[str, Any], dict[str, Any]]]:
    tmp = Path(tempfile.mkdtemp(prefix=f"sotay-bench-workers{workers}-"))
    stack = Stack(
        tmp,
        free_port(),
        {s.name: free_port() for s in SERVICES},
        quiet=True,
        demo_month=False,
        workers=workers,
    )
    try:
        await asyncio.to_thread(stack.start)
        description = json.loads((tmp / "stack.json").read_text())
        credentials = json.loads((tmp / "demo-credentials.json").read_text())
        yield description, credentials
    finally:
        await asyncio.to_thread(stack.stop)
        shutil.rmtree(tmp, ignore_errors=True)


def worker_rss_mb(description: dict[str, Any]) -> dict[str, list[float]]:
    """Each service's worker processes' resident memory (MB). With several workers, uvicorn's
    supervisor forks them (its own RSS is not a worker's); with one, the process is the worker."""
    out: dict[str, list[float]] = {}
    for name, service in description["services"].items():
        sizes: list[float] = []
        for replica in service["replicas"]:
            root = psutil.Process(replica["pid"])
            children = [p for p in root.children(recursive=True) if "python" in p.name().lower()]
            for proc in children or [root]:
                with contextlib.suppress(psutil.Error):
                    sizes.append(proc.memory_info().rss / 2**20)
        out[name] = sizes
    return out


async def one_setting(
    workers: int, gen: loadgen.Generator, bare: loadgen.Target, duration: float
) -> dict[str, Any]:
    async with stack_with(workers) as (description, creds):
        gateway = description["gateway_url"]
        async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
            member = (await login(client, creds["member"]))["authorization"]
        paths = {"me": "/api/v1/me", "to_study": "/api/v1/documents/to-study"}
        loads: dict[str, loadgen.Load] = {}
        rss: dict[str, list[float]] = {}
        for key, path in paths.items():
            target = loadgen.Target(gateway, [loadgen.Request(path, member)])
            run = asyncio.create_task(gen.run(target, duration))
            await asyncio.sleep(duration / 2)  # mid-run: the workers hold their working set
            for name, sizes in worker_rss_mb(description).items():
                rss[name] = [max(a, b) for a, b in zip(rss.get(name, sizes), sizes, strict=True)]
            loads[key] = await run
        limit = await gen.run(bare, duration)
    return {
        "workers": workers,
        "bare_per_s": round(limit.rate, 1),
        "per_s": {k: round(v.rate, 1) for k, v in loads.items()},
        "p99_ms": {k: round(v.p99_ms, 1) for k, v in loads.items()},
        "ratio": {k: round(v.rate / limit.rate, 3) for k, v in loads.items()},
        "worker_rss_mb": {k: [round(x, 1) for x in v] for k, v in rss.items()},
    }


async def measure(duration: float = DURATION) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    gen = loadgen.choose(CONCURRENCY)
    for note in gen.notes:
        print(f"workers: {note}")
    before = os.getloadavg()[0]
    async with bare_server() as bare_url:
        bare = loadgen.Target(bare_url, [loadgen.Request("/bare")])
        settings = [await one_setting(w, gen, bare, duration) for w in sorted({1, cores})]
    after = os.getloadavg()[0]
    one, many = settings[0], settings[-1]
    scaling = {k: round(many["per_s"][k] / one["per_s"][k], 2) for k in one["per_s"]}
    heaviest = max(x for s in settings for v in s["worker_rss_mb"].values() for x in v)
    result = {
        "generator": gen.name,
        "cores": cores,
        "load_average": {"before": round(before, 2), "after": round(after, 2)},
        "settings": settings,
        "scaling_factor": scaling,
        "max_worker_rss_mb": round(heaviest, 1),
        "rss_aim_mb": RSS_AIM_MB,
        # For ``python -m bench``'s table: /me with a worker per core against one worker.
        "me_per_s_all_cores": many["per_s"]["me"],
        "me_per_s_one_worker": one["per_s"]["me"],
    }
    print(
        f"workers: generator {gen.name}, {CONCURRENCY} connections, {duration:.0f} s per figure, "
        f"{cores} cores, load average {before:.2f} → {after:.2f}"
    )
    for s in settings:
        print(
            f"  {s['workers']} worker(s)/service: bare {s['bare_per_s']:,.0f}/s; "
            + "; ".join(
                f"{k} {v:,.0f}/s (p99 {s['p99_ms'][k]:,.0f} ms, {s['ratio'][k]:.3f} of bare)"
                for k, v in s["per_s"].items()
            )
        )
        print(
            "    worker RSS MB: "
            + ", ".join(f"{k} {max(v):.0f}" for k, v in s["worker_rss_mb"].items() if v)
        )
    print(
        f"  scaling factor ({cores} workers over 1): "
        + ", ".join(f"{k} ×{v}" for k, v in scaling.items())
        + f"; heaviest worker {heaviest:.0f} MB (aim < {RSS_AIM_MB} MB)"
    )
    return result


async def main(infra: Any = None, n: int | None = None) -> dict[str, Any]:
    """Entry of ``python -m bench``: starts its own private platforms."""
    return await measure()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=DURATION, help="seconds per figure")
    args = parser.parse_args()
    quiet_logs()
    result = asyncio.run(measure(args.duration))
    path = RESULTS_DIR / "latest.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault("benchmarks", {})["workers"] = result
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    cli()
