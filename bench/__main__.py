"""``python -m bench`` (``make bench``): every benchmark in one run, a summary table and
``bench/results/latest.json``."""

from __future__ import annotations

import asyncio
import json
import platform
import sys
from datetime import UTC, datetime
from typing import Any

from . import (
    analytics,
    capacity,
    consumer,
    documents,
    fanout,
    gateway,
    meetings,
    notify,
    outbox,
    workers,
)
from ._infra import RESULTS_DIR, arg_parser, bench_infra, quiet_logs

BENCHMARKS = {
    "outbox": (outbox.main, "relayed_per_s", "raw_publish_per_s", "raw async publish"),
    "consumer": (consumer.main, "applied_per_s", "raw_pull_ack_per_s", "raw pull + ack"),
    "meetings": (meetings.main, "checkins_per_s", "bare_per_s", "bare FastAPI endpoint"),
    "documents": (documents.main, "search_per_s", "bare_per_s", "bare FastAPI endpoint"),
    "analytics": (analytics.main, "applied_per_s", "raw_pull_ack_per_s", "raw pull + ack"),
    "gateway": (
        gateway.main,
        "me_per_s",
        "bare_per_s",
        "bare uvicorn endpoint, same generator",
    ),
    "notify": (notify.main, "fanout_rows_per_s", "raw_copy_rows_per_s", "raw COPY, same table"),
    "workers": (
        workers.main,
        "me_per_s_all_cores",
        "me_per_s_one_worker",
        "GET /api/v1/me with one worker per service",
    ),
    "capacity": (
        capacity.main,
        "mixed_total_per_s",
        "predicted_mixed_total_per_s",
        "the capacity model at the same mix",
    ),
}


# Figures that are times against an aim, not rates against a limit: printed after the table.
TIMED = {"fanout": fanout.main}


async def run_all(n: int, own: bool) -> dict[str, Any]:
    results: dict[str, Any] = {}
    async with bench_infra(own=own) as infra:
        print(f"bench: infrastructure = {infra.source}, n = {n} per measurement")
        for name, (main, *_) in BENCHMARKS.items():
            results[name] = await main(infra, n=n)
        source = infra.source
    for name, timed in TIMED.items():  # each starts a platform of its own
        results[name] = await timed(None, n=n)
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "infrastructure": source,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "benchmarks": results,
    }


def summary(report: dict[str, Any]) -> str:
    head = f"{'benchmark':<10} {'ev/s':>10} {'limit ev/s':>11}  {'ratio':>6}  {'aim':>5}  limit"
    lines = [head, "-" * (len(head) + 8)]
    for name, (_, rate, limit, limit_name) in BENCHMARKS.items():
        r = report["benchmarks"][name]
        ok = "ok" if r["ratio"] >= r["aim"] else "BELOW"
        lines.append(
            f"{name:<10} {r[rate]:>10,.0f} {r[limit]:>11,.0f}  {r['ratio']:>6.2f}  "
            f">={r['aim']:<3} {ok:<5} {limit_name}"
        )
    if "fanout" in report["benchmarks"]:
        lines.append(fanout.summary_line(report["benchmarks"]["fanout"]))
    return "\n".join(lines)


def main() -> int:
    args = arg_parser(__doc__, outbox.DEFAULT_N).parse_args()
    quiet_logs()
    report = asyncio.run(run_all(args.n, args.own))
    print()
    print(summary(report))
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / "latest.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nresults: {path.relative_to(RESULTS_DIR.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
