"""The national capacity model (docs/capacity.md) and its check on this machine.

The model turns the national deployment's assumptions (members, cells, how meeting evenings and
publications concentrate the load) into request rates per request class at the peak, events per
day and year, stream and table sizes, and the replicas each service needs at the peak. Its
per-replica figures are not guessed: they are the requests/s one process of each service serves
for each request class, measured here in the same run, through the gateway, by ``wrk``
(``bench/loadgen.py``); the event and row sizes are read from the stack after the run.

The check: the model assumes a replica's cost is additive over request classes (a replica busy
``x`` of its time with one class has ``1 - x`` left for the others), so a replica serving the
peak's mix of classes ``i`` at rates ``m_i`` is saturated when ``Σ m_i / r_i = 1``, where
``r_i`` is what it serves of class ``i`` alone. For each service that serves several of the
peak's classes (meetings: the run screen's list and code; documents: to-study and progress
posts) the bench replays the national peak's mix of them scaled down to this machine (the
classes at once, connections in the peak's proportions, as many in all as a single-class run
uses) and prints that sum, the **measured utilisation**, next to the model's prediction of 1.0
for a saturated service. Near 1 means the replicas computed from the single-class figures are
right; below 1 means the classes slow each other down more than their costs add up (the model
then under-provisions by that factor), above 1 that they share work (it over-provisions).

    uv run python -m bench.capacity [--duration 5] [--model-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg
import httpx
import nats

from . import documents, loadgen
from ._infra import RESULTS_DIR, quiet_logs
from .gateway import bare_server, current_codes, login, private_stack, schedule_open_meetings

CONCURRENCY = 32
DURATION = 5.0
DAY = 86_400
YEAR = 365 * DAY


@dataclass(frozen=True)
class Nation:
    """The national deployment's assumptions; each is a number a reader can change."""

    members: int = 5_300_000
    cells: int = 250_000
    provinces: int = 34
    # The busiest meeting evening: many cells meet on the same day of the month, after work.
    cells_meeting_on_busiest_evening: float = 0.25
    starting_in_peak_half_hour: float = 0.5
    attendance: float = 0.85
    checkin_minutes: float = 15  # members check in within the meeting's first 15 minutes
    code_refresh_seconds: float = 30  # the run screen reads the rotating code each step
    attendance_poll_seconds: float = 5  # the run screen's live list (issue: ≤ 5 s)
    home_requests_on_arrival: int = 3  # /me, to-study, inbox as the app opens
    readers_during_meeting: float = 0.3  # attendees who read the meeting's document there
    progress_posts_per_reading: int = 6  # 10-point steps posted while reading (≤ 11)
    # Documents and notifications over a month.
    required_documents_per_month: float = 2
    read_events_per_member_document: float = 6  # opened, 10-point steps, studied (≤ 12)
    notifications_per_member_month: float = 6  # meetings (scheduled, reminder), documents, news
    meetings_per_cell_month: float = 1.2  # the monthly meeting and some thematic ones
    documents_per_year: int = 20_000  # files uploaded by all committees, with their versions
    mean_document_mb: float = 1.5

    @property
    def members_per_cell(self) -> float:
        return self.members / self.cells


@dataclass(frozen=True)
class RequestClass:
    key: str
    service: str
    what: str


CLASSES = (
    RequestClass("attendance_poll", "meetings", "GET /api/v1/meetings/{id} (run screen)"),
    RequestClass("checkin_code", "meetings", "GET /api/v1/meetings/{id}/checkin-code"),
    RequestClass("me", "identity", "GET /api/v1/me"),
    RequestClass("to_study", "documents", "GET /api/v1/documents/to-study"),
    RequestClass("inbox", "notify", "GET /api/v1/inbox"),
    RequestClass("progress", "documents", "POST /api/v1/documents/{id}/reads"),
)


def peak_rates(n: Nation) -> dict[str, float]:
    """Requests/s of each class in the busiest quarter hour of the busiest meeting evening."""
    meetings = n.cells * n.cells_meeting_on_busiest_evening * n.starting_in_peak_half_hour
    attendees = meetings * n.members_per_cell * n.attendance
    window = n.checkin_minutes * 60
    return {
        "checkins": attendees / window,
        "attendance_poll": meetings / n.attendance_poll_seconds,
        "checkin_code": meetings / n.code_refresh_seconds,
        "me": attendees / window,
        "to_study": attendees / window,
        "inbox": attendees / window,
        "progress": attendees * n.readers_during_meeting * n.progress_posts_per_reading / window,
    }


def volumes(n: Nation) -> dict[str, float]:
    """Events and rows over time (national), before any size is applied."""
    month = 30
    reads = n.members * n.required_documents_per_month * n.read_events_per_member_document
    delivered = n.members * n.notifications_per_member_month
    meetings = n.cells * n.meetings_per_cell_month
    attendance = meetings * n.members_per_cell  # one attendance fact per invitee
    rsvps = meetings * n.members_per_cell * 0.6
    per_month = {
        "documents.document.read.v1": reads,
        "notify.notification.delivered.v1": delivered,
        "meetings.attendance.recorded.v1": attendance,
        "meetings.rsvp.recorded.v1": rsvps,
        "meetings (scheduled, updated, closed, minutes)": meetings * 4,
    }
    return {
        **{f"events/month {k}": v for k, v in per_month.items()},
        "events/month total": sum(per_month.values()),
        "events/day mean": sum(per_month.values()) / month,
        "notify inbox rows/month": delivered,
        "documents reads rows/month": n.members * n.required_documents_per_month,
        "meetings attendance rows/month": attendance,
    }


@dataclass
class Measured:
    """What this machine measured in the run: per class alone, and the mix."""

    alone: dict[str, loadgen.Load] = field(default_factory=dict)
    mixed: dict[str, loadgen.Load] = field(default_factory=dict)
    connections: dict[str, int] = field(default_factory=dict)
    checkins: loadgen.Load | None = None
    event_bytes: dict[str, float] = field(default_factory=dict)  # stream → mean bytes/message
    row_bytes: dict[str, float] = field(default_factory=dict)  # table → bytes/row (with indexes)


def mixed_services() -> dict[str, list[str]]:
    """The services that serve more than one of the peak's time-bound classes, and those."""
    by_service: dict[str, list[str]] = {}
    for c in CLASSES:
        by_service.setdefault(c.service, []).append(c.key)
    return {s: keys for s, keys in by_service.items() if len(keys) > 1}


def mix_connections(rates: dict[str, float], total: int) -> dict[str, int]:
    """Per service, ``total`` connections shared in the peak's proportions (at least one)."""
    out: dict[str, int] = {}
    for keys in mixed_services().values():
        whole = sum(rates[k] for k in keys)
        out |= {k: max(1, round(total * rates[k] / whole)) for k in keys}
    return out


def replicas(n: Nation, m: Measured, utilisation: float = 0.6) -> dict[str, dict[str, float]]:
    """Replicas of each service at the peak: the classes' peak rates over what one replica
    serves of each (measured alone here), at a target utilisation that leaves room for bursts
    and for a replica lost."""
    rates = peak_rates(n)
    busy: dict[str, float] = {}
    for c in CLASSES:
        busy[c.service] = busy.get(c.service, 0.0) + rates[c.key] / m.alone[c.key].rate
    if m.checkins is not None:
        busy["meetings"] = busy.get("meetings", 0.0) + rates["checkins"] / m.checkins.rate
    return {
        service: {"replica_seconds_per_s": round(b, 1), "replicas": math.ceil(b / utilisation)}
        for service, b in sorted(busy.items())
    }


def sizes(n: Nation, m: Measured) -> dict[str, float]:
    """Storage per year from the volumes and the sizes measured on this stack."""
    v = volumes(n)
    events_year = v["events/month total"] * 12
    mean_event = sum(m.event_bytes.values()) / len(m.event_bytes) if m.event_bytes else float("nan")
    out = {
        "events/year": events_year,
        "mean event bytes on the stream (measured)": mean_event,
        "JetStream GB/year per replica (R1)": events_year * mean_event / 1e9,
        "JetStream GB/year (R3)": 3 * events_year * mean_event / 1e9,
        "document files GB/year": n.documents_per_year * n.mean_document_mb / 1e3,
    }
    for table, per_month_key in (
        ("notify.notifications", "notify inbox rows/month"),
        ("documents.reads", "documents reads rows/month"),
        ("meetings.meeting_invitees", "meetings attendance rows/month"),
    ):
        if table in m.row_bytes:
            out[f"{table} GB/year"] = v[per_month_key] * 12 * m.row_bytes[table] / 1e9
    return out


# ── measuring ───────────────────────────────────────────────────────────────────────────────


async def _event_bytes(nats_url: str) -> dict[str, float]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        out: dict[str, float] = {}
        for info in await js.streams_info():
            state = info.state
            if info.config.name and state.messages:
                out[info.config.name] = state.bytes / state.messages
        return out
    finally:
        await nc.close()


async def _row_bytes(services: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for service, table in (
        ("notify", "notifications"),
        ("documents", "reads"),
        ("meetings", "meeting_invitees"),
    ):
        conn = await asyncpg.connect(services[service]["dsn"])
        try:
            rows = await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608 — fixed names
            size = await conn.fetchval("SELECT pg_total_relation_size($1::regclass)", table)
        finally:
            await conn.close()
        if rows:
            out[f"{service}.{table}"] = size / rows
    return out


async def measure(duration: float = DURATION, concurrency: int = CONCURRENCY) -> dict[str, Any]:
    nation = Nation()
    rates = peak_rates(nation)
    m = Measured(connections=mix_connections(rates, concurrency))
    load_before = os.getloadavg()
    started = time.perf_counter()
    async with private_stack() as (_, description, creds), bare_server() as bare_url:
        gateway = description["gateway_url"]
        cell_id = creds["orgs"]["cell_id"]
        async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
            member = await login(client, creds["member"])
            secretary = await login(client, creds["secretary"])
            # Open meetings of the demo cell: the run screens' polls rotate through them (every
            # secretary polls a meeting of their own; 32 connections on one meeting's row would
            # measure that row's contention instead), and each takes two check-ins at the end.
            meetings = await schedule_open_meetings(client, secretary, cell_id, 150)
        rng = random.Random(7)
        # The library the progress posts go to, published to the whole province (bench.documents).
        doc_ids = await documents.fill(description["services"]["documents"]["dsn"], rng)
        chair = secretary["authorization"]
        requests = {
            "attendance_poll": [
                loadgen.Request(f"/api/v1/meetings/{mid}", chair) for mid in meetings
            ],
            "checkin_code": [
                loadgen.Request(f"/api/v1/meetings/{mid}/checkin-code", chair) for mid in meetings
            ],
            "me": [loadgen.Request("/api/v1/me", member["authorization"])],
            "to_study": [loadgen.Request("/api/v1/documents/to-study", member["authorization"])],
            "inbox": [loadgen.Request("/api/v1/inbox", member["authorization"])],
            "progress": [
                loadgen.Request(
                    f"/api/v1/documents/{rng.choice(doc_ids)}/reads",
                    who["authorization"],
                    json.dumps({"progress_percent": (i // 3) % 100}),
                )
                for i in range(5_000)
                for who in (member, secretary)
            ],
        }
        method = {c.key: "POST" if c.key == "progress" else "GET" for c in CLASSES}

        def target(key: str) -> loadgen.Target:
            return loadgen.Target(gateway, requests[key], method=method[key])

        gen = loadgen.choose(concurrency)
        for note in gen.notes:
            print(f"capacity: {note}")
        bare = await gen.run(loadgen.Target(bare_url, [loadgen.Request("/bare")]), duration)
        for c in CLASSES:
            m.alone[c.key] = await gen.run(target(c.key), duration)

        # Check-ins are count-bound (each one a first check-in): measured alone, as the gateway
        # bench does, and added to meetings' load in the model; not part of the time-bound mix.
        async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
            codes = await current_codes(client, secretary, meetings)
        checkins = [
            loadgen.Request(
                f"/api/v1/meetings/{mid}/checkin",
                who["authorization"],
                json.dumps({"code": codes[mid].code}),
            )
            for mid in meetings
            for who in (member, secretary)
        ]
        m.checkins = await gen.run(
            loadgen.Target(
                gateway, checkins, method="POST", once=True, duplicate='"already_recorded":true'
            ),
            duration,
        )

        # Each service's mix: its classes at once, the connections in the peak's proportions.
        for keys in mixed_services().values():
            gens = {k: loadgen.choose(m.connections[k]) for k in keys}
            loads = await asyncio.gather(*(gens[k].run(target(k), duration) for k in keys))
            m.mixed |= dict(zip(keys, loads, strict=True))
        m.event_bytes = await _event_bytes(description["nats_url"])
        m.row_bytes = await _row_bytes(description["services"])
    load_after = os.getloadavg()

    mixes: dict[str, dict[str, float]] = {}
    for service, keys in mixed_services().items():
        total = sum(m.mixed[k].rate for k in keys)
        shares = {k: m.mixed[k].rate / total for k in keys}
        mixes[service] = {
            "measured_utilisation": round(sum(m.mixed[k].rate / m.alone[k].rate for k in keys), 3),
            "predicted_utilisation": 1.0,
            "mixed_total_per_s": round(total, 1),
            "predicted_mixed_total_per_s": round(
                1 / sum(shares[k] / m.alone[k].rate for k in keys), 1
            ),
        }
    need = replicas(nation, m)
    size = sizes(nation, m)
    result = {
        "generator": gen.name,
        "cores": os.cpu_count(),
        "load_average": {"before": load_before[0], "after": load_after[0]},
        "bare_per_s": round(bare.rate, 1),
        "nation": asdict(nation),
        "peak_rates_per_s": {k: round(v, 1) for k, v in peak_rates(nation).items()},
        "alone_per_s": {k: round(v.rate, 1) for k, v in m.alone.items()},
        "checkins_per_s": round(m.checkins.rate, 1) if m.checkins else None,
        "mix_connections": m.connections,
        "mixed_per_s": {k: round(v.rate, 1) for k, v in m.mixed.items()},
        "mixed_p99_ms": {k: round(v.p99_ms, 1) for k, v in m.mixed.items()},
        "mixes": mixes,
        # For ``python -m bench``'s table: the meetings mix, the service the peak weighs on most.
        "mixed_total_per_s": mixes["meetings"]["mixed_total_per_s"],
        "predicted_mixed_total_per_s": mixes["meetings"]["predicted_mixed_total_per_s"],
        "replicas_at_peak": need,
        "volumes": {k: round(v) for k, v in volumes(nation).items()},
        "sizes": {k: round(v, 2) for k, v in size.items()},
        "event_bytes": {k: round(v) for k, v in m.event_bytes.items()},
        "row_bytes": {k: round(v) for k, v in m.row_bytes.items()},
        "total_s": round(time.perf_counter() - started, 1),
    }
    report(result)
    return result


def report(r: dict[str, Any]) -> None:
    print(
        f"capacity: generator {r['generator']}, {r['cores']} cores, load average "
        f"{r['load_average']['before']:.2f} → {r['load_average']['after']:.2f}; "
        f"bare endpoint {r['bare_per_s']:,.0f}/s"
    )
    print(
        f"  {'class':<18} {'national peak/s':>16} {'alone here/s':>13} {'in the mix/s':>13} "
        f"{'conns':>6} {'mix p99 ms':>11}"
    )
    for c in CLASSES:
        print(
            f"  {c.key:<18} {r['peak_rates_per_s'][c.key]:>16,.0f} "
            f"{r['alone_per_s'][c.key]:>13,.0f} {r['mixed_per_s'].get(c.key, 0):>13,.0f} "
            f"{r['mix_connections'].get(c.key, 0):>6} {r['mixed_p99_ms'].get(c.key, 0):>11,.0f}"
        )
    print(
        f"  {'checkins':<18} {r['peak_rates_per_s']['checkins']:>16,.0f} "
        f"{r['checkins_per_s']:>13,.0f} {'(count-bound, alone only)':>32}"
    )
    for service, mix in r["mixes"].items():
        print(
            f"  {service} mix: measured utilisation Σ mixed/alone = "
            f"{mix['measured_utilisation']:.2f} (model: {mix['predicted_utilisation']:.2f}); "
            f"{mix['mixed_total_per_s']:,.0f} req/s measured vs "
            f"{mix['predicted_mixed_total_per_s']:,.0f} predicted at the same shares"
        )
    print("  replicas at the national peak (60 % target utilisation, one process each):")
    for service, v in r["replicas_at_peak"].items():
        print(f"    {service:<10} {v['replica_seconds_per_s']:>8,.1f} busy → {v['replicas']:>4}")
    print("  volumes and sizes:")
    for k, v in {**r["volumes"], **r["sizes"]}.items():
        print(f"    {k:<58} {v:>18,.2f}")


def model_only() -> dict[str, Any]:
    nation = Nation()
    out = {
        "nation": asdict(nation),
        "peak_rates_per_s": peak_rates(nation),
        "volumes": volumes(nation),
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return out


async def main(infra: Any = None, n: int | None = None) -> dict[str, Any]:
    """Entry of ``python -m bench``: starts its own private platform."""
    return await measure()


def record(result: dict[str, Any]) -> None:
    path = RESULTS_DIR / "latest.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault("benchmarks", {})["capacity"] = result
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=DURATION, help="seconds per figure")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument(
        "--model-only", action="store_true", help="print the model, measure nothing"
    )
    args = parser.parse_args()
    if args.model_only:
        model_only()
        return
    quiet_logs()
    record(asyncio.run(measure(args.duration, args.concurrency)))


if __name__ == "__main__":
    cli()
