"""Business gauges for the operators' Grafana (deploy/grafana/dashboards/business.json).

Labels are bounded: ``org_path`` is the root of the tree (the province) or one of its children
(the district-level committees), never anything deeper. The gauges are recomputed from the
projections every ``gauge_refresh_seconds`` by :func:`refresh_loop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Final

from prometheus_client import Counter, Gauge
from sotay_kit.auth import Principal, RoleGrant
from sotay_kit.db import Pool
from sotay_kit.metrics import exposed_names
from sotay_kit.stopping import sleep_or_stop

log = logging.getLogger("sotay.analytics.metrics")

_LABELS = ["org_path"]
# Every worker of the service recomputes the same values (docs/scaling.md): the latest wins.
_MODE: Final = "livemostrecent"

ORGS_USING_RATIO = Gauge(
    "sotay_analytics_orgs_using_ratio",
    "Party organisations that used the platform in the last 30 days / all (target 1.0).",
    _LABELS,
    multiprocess_mode=_MODE,
)
MEMBERS_ACTIVATED_RATIO = Gauge(
    "sotay_analytics_members_activated_ratio",
    "Members with an activated account / all members (target 0.95).",
    _LABELS,
    multiprocess_mode=_MODE,
)
MEMBERS_ACTIVE_RATIO = Gauge(
    "sotay_analytics_members_active_ratio",
    "Members active in the last 30 days / all members (target 0.90).",
    _LABELS,
    multiprocess_mode=_MODE,
)
MEMBERS = Gauge(
    "sotay_analytics_members", "Active and exempt members.", _LABELS, multiprocess_mode=_MODE
)
DOCUMENT_OPENED_RATIO = Gauge(
    "sotay_analytics_document_opened_ratio",
    "Publications of the last 90 days: audience members who opened / audience.",
    _LABELS,
    multiprocess_mode=_MODE,
)
DOCUMENT_STUDIED_RATIO = Gauge(
    "sotay_analytics_document_studied_ratio",
    "Publications of the last 90 days: audience members who studied / audience.",
    _LABELS,
    multiprocess_mode=_MODE,
)
DOCUMENT_OVERDUE = Gauge(
    "sotay_analytics_document_overdue",
    "Audience members past a study deadline without having studied (publications of the "
    "last 90 days).",
    _LABELS,
    multiprocess_mode=_MODE,
)
ATTENDANCE_RATE = Gauge(
    "sotay_analytics_attendance_rate",
    "Meetings held this month and last: (present + late) / (invited - exempt).",
    _LABELS,
    multiprocess_mode=_MODE,
)
MEETINGS_HELD = Gauge(
    "sotay_analytics_meetings_held",
    "Meetings held this month and last.",
    _LABELS,
    multiprocess_mode=_MODE,
)
QUORUM_MET_RATIO = Gauge(
    "sotay_analytics_quorum_met_ratio",
    "Meetings held this month and last that met their quorum / meetings held.",
    _LABELS,
    multiprocess_mode=_MODE,
)
AUDIENCE_CHUNK_FAILURES = Counter(
    "sotay_analytics_audience_chunk_failures",
    "Chunks of a large publication's audience that failed (rolled back, retried last).",
)
EVENTS_REFUSED = Counter(
    "sotay_analytics_events_refused",
    "Events the projections refused (each attempt), by reason (future, unknown_org).",
    ["reason"],
)
GAUGES_REFRESHED = Gauge(
    "sotay_analytics_gauges_refreshed_timestamp_seconds",
    "When the business gauges were last recomputed (Unix time).",
    multiprocess_mode="livemax",
)

BUSINESS = (
    ORGS_USING_RATIO,
    MEMBERS_ACTIVATED_RATIO,
    MEMBERS_ACTIVE_RATIO,
    MEMBERS,
    DOCUMENT_OPENED_RATIO,
    DOCUMENT_STUDIED_RATIO,
    DOCUMENT_OVERDUE,
    ATTENDANCE_RATE,
    MEETINGS_HELD,
    QUORUM_MET_RATIO,
    EVENTS_REFUSED,
    AUDIENCE_CHUNK_FAILURES,
    GAUGES_REFRESHED,
)
# What dashboards and alert rules may query beyond sotay_kit.metrics.EXPORTED_METRICS.
EXPORTED_METRICS: frozenset[str] = exposed_names(BUSINESS)


def _set(gauge: Gauge, path: str, value: float | None) -> None:
    if value is None:
        with contextlib.suppress(KeyError):
            gauge.remove(path)
    else:
        gauge.labels(path).set(value)


async def refresh(pool: Pool, now: datetime | None = None) -> int:
    """Recompute every gauge for each root and its children; returns the number of nodes."""
    from datetime import timedelta

    from .reports import repository as repo
    from .reports import service

    now = now or datetime.now(UTC)
    nodes = 0
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        for root in await repo.roots(conn):
            who = Principal(
                member_id=root["org_id"],
                cell_id=None,
                org_path=None,
                grants=(RoleGrant("org_admin", root["path"]),),
            )
            adoption = await service.adoption(conn, who, org_id=root["org_id"], now=now)
            recent = service.period(None, None, now, default_months=2)
            attendance = await service.attendance(
                conn, who, org_id=root["org_id"], months=recent, now=now
            )
            since = now - timedelta(days=90)
            reach = await service.document_reach(
                conn,
                who,
                org_id=root["org_id"],
                document_id=None,
                publication_id=None,
                months=service.Period("", "", since, now + timedelta(days=1)),
                now=now,
            )
            per_path: dict[str, dict[str, float]] = {}
            for row in attendance.rows:
                acc = per_path.setdefault(row["org_path"], {})
                for key in ("meetings_held", "invited", "present", "late", "exempt", "quorum_met"):
                    acc[key] = acc.get(key, 0) + float(row.get(key) or 0)
            total_att = dict.fromkeys(("meetings_held", "invited", "present", "late", "exempt",
                                       "quorum_met"), 0.0)  # fmt: skip
            for acc in per_path.values():
                for key in total_att:
                    total_att[key] += acc.get(key, 0)
            per_path[root["path"]] = total_att

            rows = {r["org_path"]: r for r in adoption.rows if not r.get("org_self")}
            rows[root["path"]] = {**(adoption.total or {}), "org_path": root["path"]}
            reach_rows = {r["org_path"]: r for r in reach.rows if not r.get("org_self")}
            reach_rows[root["path"]] = {**(reach.total or {}), "org_path": root["path"]}
            for path, row in rows.items():
                nodes += 1
                _set(ORGS_USING_RATIO, path, row.get("orgs_using_ratio"))
                _set(MEMBERS_ACTIVATED_RATIO, path, row.get("activated_ratio"))
                _set(MEMBERS_ACTIVE_RATIO, path, row.get("active_ratio"))
                _set(MEMBERS, path, float(row.get("members") or 0))
                r = reach_rows.get(path, {})
                _set(DOCUMENT_OPENED_RATIO, path, r.get("opened_ratio"))
                _set(DOCUMENT_STUDIED_RATIO, path, r.get("studied_ratio"))
                _set(DOCUMENT_OVERDUE, path, float(r.get("overdue") or 0))
                a = per_path.get(path, {})
                held = a.get("meetings_held", 0)
                base = a.get("invited", 0) - a.get("exempt", 0)
                _set(MEETINGS_HELD, path, held)
                _set(
                    ATTENDANCE_RATE,
                    path,
                    round((a.get("present", 0) + a.get("late", 0)) / base, 4) if base else None,
                )
                _set(QUORUM_MET_RATIO, path, round(a["quorum_met"] / held, 4) if held else None)
    GAUGES_REFRESHED.set(now.timestamp())
    return nodes


async def refresh_loop(pool: Pool, interval: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await refresh(pool)
        except Exception as exc:  # a gauge refresh never takes the service down
            log.warning("gauge refresh failed", extra={"error": type(exc).__name__})
        await sleep_or_stop(stop, interval)
