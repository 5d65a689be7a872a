"""Province fan-out through the running platform (issue 13, item 6): how long until the reach
report shows a publication as notified, for six publications to the whole province and one to
a 30-member cell published right after them.

The platform as ``make run DEMO=full`` starts it (every service a process, NATS, Postgres, S3,
the gateway), with the full demo province (~59,000 members) and no demo month. The province's
admin uploads seven documents (not timed), then publishes six of them to the province back to
back and the seventh to a cell of about 30 members right after. For each publication the bench
polls ``GET /api/v1/reports/document-reach?publication_id=…`` (the province's node, or the
cell's) and prints the time from the publish answer until ``notified`` equals ``audience``:

- ``province_s``: until the last of the six province publications is fully notified;
- ``cell_s``: until the cell's is, while the province's fan-out is still in flight.

Aims (issue 13): province ≤ 10 s, cell ≤ 2 s. Building the full demo takes minutes (identity
loads 59,000 members, four services project them through NATS): ``--data DIR`` keeps the
platform's data between runs (a later run reuses it and only applies new migrations).

    uv run python -m bench.fanout [--data .data-fanout] [--timeout 600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
from sotay_devstack.demo_month import _wait_for_projections
from sotay_devstack.demo_texts import DOCUMENTS, document_docx
from sotay_devstack.servers import free_port
from sotay_devstack.stack import Stack
from sotay_kit import db
from sotay_kit.topology import SERVICES

from ._infra import RESULTS_DIR, BenchInfra, quiet_logs

PROVINCE_PUBLICATIONS = 6
CELL_SIZE = 30
TIMEOUT = 600.0
AIM_PROVINCE_S = 10.0
AIM_CELL_S = 2.0
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _ok(r: httpx.Response, what: str) -> Any:
    if r.status_code >= 300:
        raise RuntimeError(f"{what}: {r.status_code} {r.text[:300]}")
    return r.json()


async def _cell_of(identity_dsn: str, size: int) -> tuple[str, int]:
    """The active cell whose number of active members is closest to ``size``."""
    conn = await db.connect(identity_dsn)
    try:
        row = await conn.fetchrow(
            "SELECT cell_id, count(*) AS n FROM members WHERE status = 'active' "
            "GROUP BY cell_id ORDER BY abs(count(*) - $1), cell_id LIMIT 1",
            size,
        )
    finally:
        await conn.close()
    assert row is not None
    return str(row["cell_id"]), int(row["n"])


async def _members(identity_dsn: str) -> int:
    conn = await db.connect(identity_dsn)
    try:
        n: int = await conn.fetchval("SELECT count(*) FROM members WHERE status = 'active'")
        return n
    finally:
        await conn.close()


async def _upload(client: httpx.AsyncClient, auth: dict[str, str], org_id: str, i: int) -> str:
    doc = DOCUMENTS[i % len(DOCUMENTS)]
    tag = uuid.uuid4().hex[:6]
    r = await client.post(
        "/api/v1/documents",
        data={
            "title": f"{doc.title} (đo lan tỏa {tag})",
            "kind": doc.kind,
            "number": f"{i + 1}-{tag}/NQ-TU",
            "issuer": doc.issuer,
            "issued_on": datetime.now(UTC).date().isoformat(),
            "summary": doc.summary,
            "classification": "internal",
            "org_id": org_id,
        },
        files={"file": (f"van-ban-{tag}.docx", document_docx(doc), DOCX)},
        headers=auth,
    )
    return str(_ok(r, "upload")["id"])


async def _publish(
    client: httpx.AsyncClient, auth: dict[str, str], document_id: str, org_id: str
) -> tuple[str, float]:
    r = await client.post(
        f"/api/v1/documents/{document_id}/publish",
        json={
            "org_ids": [org_id],
            "study_required": True,
            "study_deadline": (datetime.now(UTC) + timedelta(days=20)).isoformat(),
        },
        headers=auth,
    )
    body = _ok(r, "publish")
    return str(body["id"]), time.perf_counter()


async def _notified(
    client: httpx.AsyncClient, auth: dict[str, str], org_id: str, publication_id: str
) -> tuple[int, int, bool]:
    """(audience, notified, whether the audience is complete: a large one is projected in
    chunks, and until then its numbers are partial)."""
    started = time.perf_counter()
    r = await client.get(
        "/api/v1/reports/document-reach",
        params={"org_id": org_id, "publication_id": publication_id},
        headers=auth,
    )
    REPORT_TIMES.append(time.perf_counter() - started)
    report = _ok(r, "reach report")
    total = report["total"]
    complete = not report.get("projecting")
    return int(total.get("audience") or 0), int(total.get("notified") or 0), complete


async def _until_notified(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    org_id: str,
    publication_id: str,
    published_at: float,
    limit_s: float,
) -> tuple[float | None, int, int]:
    """Seconds from the publish answer until the report shows every member of the audience
    notified (None if not within ``limit_s``), with the last audience and notified counts."""
    audience = notified = 0
    while time.perf_counter() - published_at < limit_s:
        audience, notified, complete = await _notified(client, auth, org_id, publication_id)
        if audience and publication_id not in AUDIENCE_SEEN:
            AUDIENCE_SEEN[publication_id] = time.perf_counter() - published_at
        if audience and complete and notified >= audience:
            return time.perf_counter() - published_at, audience, notified
        await asyncio.sleep(0.1)
    return None, audience, notified


# When the report first showed a publication's audience (analytics projected the
# publication): tells the analytics side of a wait from notify's.
AUDIENCE_SEEN: dict[str, float] = {}
# How long each reach report took to answer while the bench polled it.
REPORT_TIMES: list[float] = []


async def _background_done(dsns: dict[str, str], limit_s: float) -> bool:
    """Wait until notify's fan-out jobs and analytics' audience jobs are all written (the
    per-member rows behind what the reports already showed)."""
    notify = await db.connect(dsns["notify"])
    analytics = await db.connect(dsns["analytics"])
    try:
        deadline = time.perf_counter() + limit_s
        while time.perf_counter() < deadline:
            open_jobs = await notify.fetchval(
                "SELECT count(*) FROM fanout_jobs WHERE done_at IS NULL"
            ) + await analytics.fetchval("SELECT count(*) FROM an_audience_jobs")
            if not open_jobs:
                return True
            await asyncio.sleep(0.2)
        return False
    finally:
        await notify.close()
        await analytics.close()


async def measure(data: Path | None = None, limit_s: float = TIMEOUT) -> dict[str, Any]:
    keep = data is not None
    data_dir = data or Path(tempfile.mkdtemp(prefix="sotay-bench-fanout-"))
    stack = Stack(data_dir, free_port(), {}, quiet=True, demo="full", demo_month=False)
    started = time.perf_counter()
    print("fanout: starting the platform with the full demo province (minutes the first time)")
    await asyncio.to_thread(stack.start)
    try:
        assert stack.pg is not None
        dsns = {svc.name: stack.pg.dsn(svc.database) for svc in SERVICES}
        members = await _members(dsns["identity"])
        await _wait_for_projections(dsns, members, 3600)
        ready_s = time.perf_counter() - started
        print(f"fanout: platform ready with {members:,} members in {ready_s:.0f} s")
        credentials = json.loads((data_dir / "demo-credentials.json").read_text())
        province = credentials["orgs"]["province_id"]
        cell, cell_members = await _cell_of(dsns["identity"], CELL_SIZE)
        description = json.loads((data_dir / "stack.json").read_text())
        async with httpx.AsyncClient(base_url=description["gateway_url"], timeout=120) as client:
            admin = credentials["admin"]
            body = {"username": admin["username"], "password": admin["password"]}
            if admin.get("totp_secret"):
                body["otp"] = pyotp.TOTP(admin["totp_secret"]).now()
            login = _ok(await client.post("/api/v1/auth/login", json=body), "login")
            auth = {"Authorization": f"Bearer {login['access_token']}"}
            docs = [
                await _upload(client, auth, province, i) for i in range(PROVINCE_PUBLICATIONS + 1)
            ]
            await asyncio.sleep(2)  # the uploads' own events settle before the clock starts
            published = [
                await _publish(client, auth, d, province) for d in docs[:PROVINCE_PUBLICATIONS]
            ]
            cell_publication = await _publish(client, auth, docs[-1], cell)
            cell_task = asyncio.create_task(
                _until_notified(client, auth, cell, *cell_publication, limit_s)
            )
            province_results = []
            for publication_id, at in published:
                province_results.append(
                    await _until_notified(client, auth, province, publication_id, at, limit_s)
                )
            cell_result = await cell_task
            reflected_reports = len(REPORT_TIMES)
            drained = await _background_done(dsns, limit_s)
            background_s = time.perf_counter() - published[0][1] if drained else None
            # Once every row is written, the reports (now read from them) say the same.
            after_rows = [
                await _notified(
                    client,
                    auth,
                    province,
                    p,
                )
                for p, _ in published
            ]
        first_at = published[0][1]
        report_times = sorted(REPORT_TIMES[:reflected_reports])
        times = [r[0] for r in province_results]
        done = [t for t in times if t is not None]
        province_s = (
            max(at + t for (_, at), t in zip(published, times, strict=True) if t is not None)
            - first_at
            if len(done) == len(times)
            else None
        )
        result: dict[str, Any] = {
            "members": members,
            "province_publications": PROVINCE_PUBLICATIONS,
            "province_audience": province_results[0][1],
            "province_notified": [r[2] for r in province_results],
            "province_each_s": times,
            "province_s": province_s,
            "cell_members": cell_members,
            "cell_audience": cell_result[1],
            "cell_notified": cell_result[2],
            "cell_s": cell_result[0],
            "cell_audience_seen_s": AUDIENCE_SEEN.get(cell_publication[0]),
            "province_audience_seen_s": [AUDIENCE_SEEN.get(p) for p, _ in published],
            "timeout_s": limit_s,
            "aim_province_s": AIM_PROVINCE_S,
            "aim_cell_s": AIM_CELL_S,
            "platform_ready_s": ready_s,
            "background_s": background_s,
            "after_rows": [[a, n] for a, n, _ in after_rows],
            "report_p50_s": report_times[len(report_times) // 2] if report_times else None,
            "report_max_s": report_times[-1] if report_times else None,
            "reports": len(report_times),
        }
    finally:
        await asyncio.to_thread(stack.stop)
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    _print(result)
    return result


def _fmt(seconds: float | None, timeout: float) -> str:
    return f"{seconds:.1f} s" if seconds is not None else f"not within {timeout:.0f} s"


def _print(r: dict[str, Any]) -> None:
    t = r["timeout_s"]
    print(
        f"fanout: {r['members']:,} members; {r['province_publications']} publications to the "
        f"province (audience {r['province_audience']:,} each), then one to a cell of "
        f"{r['cell_members']} members"
    )
    each = ", ".join(_fmt(s, t) for s in r["province_each_s"])
    print(f"  province publications fully notified, each from its publish: {each}")
    print(
        f"  all six reflected in the reach report: {_fmt(r['province_s'], t)} after the first "
        f"publish (aim ≤ {r['aim_province_s']:.0f} s)"
    )
    print(
        f"  the cell's publication: {_fmt(r['cell_s'], t)} ({r['cell_notified']}/"
        f"{r['cell_audience']} notified; aim ≤ {r['aim_cell_s']:.0f} s); its audience first "
        f"shown after {_fmt(r['cell_audience_seen_s'], t)}"
    )
    seen = ", ".join(_fmt(s, t) for s in r["province_audience_seen_s"])
    print(f"  the province publications' audiences first shown after: {seen}")
    print(
        f"  the reach report answered in {r['report_p50_s']:.3f} s (median), "
        f"{r['report_max_s']:.3f} s at most, over {r['reports']} polls during the fan-out"
    )
    after = ", ".join(f"{n:,}/{a:,}" for a, n in r["after_rows"])
    print(
        f"  per-member rows all written (notify's inboxes, analytics' audiences) "
        f"{_fmt(r['background_s'], t)} after the first publish; the reports then read "
        f"from them (notified/audience): {after}"
    )


def summary_line(r: dict[str, Any]) -> str:
    """The line of ``make bench``'s summary."""
    t = r["timeout_s"]
    province_ok = r["province_s"] is not None and r["province_s"] <= r["aim_province_s"]
    cell_ok = r["cell_s"] is not None and r["cell_s"] <= r["aim_cell_s"]
    return (
        f"fanout     {r['province_publications']} × {r['province_audience']:,} members reflected "
        f"in {_fmt(r['province_s'], t)} (aim ≤ {r['aim_province_s']:.0f} s "
        f"{'ok' if province_ok else 'BELOW'}); a cell's in {_fmt(r['cell_s'], t)} "
        f"(aim ≤ {r['aim_cell_s']:.0f} s {'ok' if cell_ok else 'BELOW'})"
    )


async def main(infra: BenchInfra | None = None, n: int | None = None) -> dict[str, Any]:
    """Entry of ``python -m bench``: starts its own platform (the infrastructure and ``n`` are
    not used)."""
    return await measure()


def cli() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=None, help="keep the platform's data here")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per wait")
    args = parser.parse_args()
    quiet_logs()
    result = asyncio.run(measure(args.data, args.timeout))
    path = RESULTS_DIR / "fanout.json"
    RESULTS_DIR.mkdir(exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results: {path.relative_to(RESULTS_DIR.parent.parent)}")
    return result


if __name__ == "__main__":
    cli()
