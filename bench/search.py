"""Search as the library grows: ``GET /api/v1/documents?q=…`` through the gateway over 10,000
and then 100,000 documents, each figure beside the bare FastAPI endpoint measured by the same
generator (wrk; ``bench/loadgen.py``) in the same run, with p50/p99 latency at 32 connections.

The platform is the one ``make run`` starts (a private copy, free ports, the small demo
province; ``bench.gateway.private_stack``). The library is filled straight into the documents
database with COPY (``bench.documents.fill``; not through the API): 10,000 documents, measured,
then 90,000 more, measured again. Every document is published to the province root, so every
one is visible to the demo member who searches. The queries are common two-word Vietnamese
phrases typed without diacritics, each matching thousands of documents (the bench prints how
many), so a search that ranked every match would slow down tenfold from 10,000 to 100,000.

    uv run python -m bench.search [--duration 10] [--concurrency 32] [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from sotay_kit import db
from sotay_kit.text import search_words

from . import documents, gateway, loadgen
from ._infra import quiet_logs

QUERIES = [
    "sinh hoat",
    "chi bo",
    "dang vien",
    "kiem tra",
    "to chuc",
    "xay dung",
    "tham nhung",
    "chuyen doi",
    "dan van",
    "giam sat",
]
SIZES = (10_000, 100_000)
DURATION = 10.0


async def matches(dsn: str) -> dict[str, int]:
    """How many documents each query matches (every word, the last as a prefix)."""
    conn = await db.connect(dsn)
    try:
        counts = {}
        for q in QUERIES:
            words = search_words(q)
            tsq = " & ".join([*words[:-1], f"{words[-1]}:*"])
            counts[q] = await conn.fetchval(
                "SELECT count(*) FROM documents WHERE search_tsv @@ to_tsquery('simple', $1)", tsq
            )
        return counts
    finally:
        await conn.close()


async def measure(
    duration: float = DURATION, concurrency: int = 32, sizes: tuple[int, ...] = SIZES
) -> dict[str, Any]:
    gen = loadgen.choose(concurrency)
    for note in gen.notes:
        print(f"search: {note}")
    load_before = os.getloadavg()
    rows: list[dict[str, Any]] = []
    async with gateway.private_stack() as (_, description, creds), gateway.bare_server() as bare:
        dsn = description["services"]["documents"]["dsn"]
        gw = description["gateway_url"]
        async with httpx.AsyncClient(base_url=gw, timeout=60) as client:
            member = await gateway.login(client, creds["member"])
        requests = [
            loadgen.Request(f"/api/v1/documents?{urlencode({'q': q})}", member["authorization"])
            for q in QUERIES
        ]
        bare_target = loadgen.Target(bare, [loadgen.Request("/bare")])
        rng = random.Random(21)
        filled = 0
        for size in sizes:
            started = time.perf_counter()
            await documents.fill(dsn, rng, size - filled)
            fill_s = time.perf_counter() - started
            filled = size
            counts = await matches(dsn)
            bare_1 = await gen.run(bare_target, duration / 2)
            found = await gen.run(loadgen.Target(gw, requests), duration)
            bare_2 = await gen.run(bare_target, duration / 2)
            bare_rate = (bare_1.rate + bare_2.rate) / 2
            rows.append(
                {
                    "documents": size,
                    "fill_s": round(fill_s, 1),
                    "matches": counts,
                    "search_per_s": round(found.rate, 1),
                    "p50_ms": round(found.p50_ms, 1),
                    "p99_ms": round(found.p99_ms, 1),
                    "bare_per_s": round(bare_rate, 1),
                    "bare_runs_per_s": [round(bare_1.rate, 1), round(bare_2.rate, 1)],
                    "ratio": round(found.rate / bare_rate, 3),
                    "load_average": [round(x, 2) for x in os.getloadavg()],
                }
            )
    load_after = os.getloadavg()
    print(
        f"search: generator {gen.name}, {concurrency} connections, {duration:.0f} s per figure "
        f"(bare: two runs of {duration / 2:.0f} s around it); load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after ({os.cpu_count()} cores, "
        "machine shared with other work)"
    )
    print(f"  queries: {', '.join(QUERIES)}")
    print(
        f"  {'documents':>9} {'matches/query':>15} {'search/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'bare/s':>8} {'ratio':>6} {'load':>5}"
    )
    for r in rows:
        m = r["matches"].values()
        print(
            f"  {r['documents']:>9,} {min(m):>7,}–{max(m):<7,} {r['search_per_s']:>9,.0f} "
            f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['bare_per_s']:>8,.0f} "
            f"{r['ratio']:>6.3f} {r['load_average'][0]:>5.1f}"
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(
            f"  {last['documents']:,} vs {first['documents']:,} documents: search/s × "
            f"{last['search_per_s'] / first['search_per_s']:.2f}, p50 × "
            f"{last['p50_ms'] / first['p50_ms']:.2f} (a search that ranked every match: ≈ × 10)"
        )
    if isinstance(gen, loadgen.Httpx):
        print(f"search: {loadgen.HTTPX_WARNING}")
    return {
        "generator": gen.name,
        "concurrency": concurrency,
        "duration_s": duration,
        "queries": QUERIES,
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
        "sizes": rows,
    }


def cli() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=DURATION, help="seconds per figure")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in SIZES),
        help="library sizes to measure, ascending",
    )
    args = parser.parse_args()
    quiet_logs()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    return asyncio.run(measure(args.duration, args.concurrency, sizes))


if __name__ == "__main__":
    cli()
