"""Report use cases: who may see what (the caller's subtree), drill-down levels, periods, and
the shape every report shares (columns with Vietnamese labels, rows, a total)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import asyncpg
from sotay_kit import audit
from sotay_kit.auth import Principal
from sotay_kit.clock import LOCAL_TZ
from sotay_kit.db import Connection
from sotay_kit.errors import NotFound, Unprocessable
from sotay_kit.orgs import CELL_KINDS
from sotay_kit.projections import identity as idp

from ..problems import ReportTooLarge
from . import repository as repo

REPORT_ROLES = ("committee_member", "org_admin", "cell_secretary", "cell_deputy")
MAX_MONTHS = 24
ACTIVE_DAYS = 30
# DESIGN.md §1: every organisation, ≥ 95 % of members with an activated (installed, used)
# account, ≥ 90 % using it effectively (here: active in the last 30 days).
TARGETS = {"orgs_using_ratio": 1.0, "activated_ratio": 0.95, "active_ratio": 0.90}

ColumnKind = Literal["text", "int", "ratio", "bool", "datetime", "month"]


def check_rows(count: int, max_rows: int | None) -> None:
    """A report of more than ``max_rows`` rows is refused: the caller narrows it (None: no cap,
    for the rebuild check only)."""
    if max_rows is not None and count > max_rows:
        raise ReportTooLarge(
            f"Báo cáo có hơn {max_rows} dòng; hãy thu hẹp tổ chức hoặc khoảng thời gian"
        )


# Reports that name members: reading them is audited in every format.
NAMING_REPORTS = frozenset({"lagging"})


async def audit_access(
    conn: Connection, who: Principal, report: Report, fmt: str, source: str | None
) -> None:
    """Audit a report that leaves the platform as a file (CSV/XLSX) or that names members; the
    aggregate JSON reports people look at every day are not audited."""
    if fmt == "json" and report.report not in NAMING_REPORTS:
        return
    await audit.record(
        conn,
        "analytics.report_read" if fmt == "json" else "analytics.report_exported",
        actor_id=who.member_id,
        target=report.report,
        source=source,
        details={
            "format": fmt,
            "org_id": report.org["org_id"] if report.org else None,
            "rows": len(report.rows),
        },
    )


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: ColumnKind = "int"


@dataclass
class Report:
    report: str
    title: str
    scope: Literal["org", "self"]
    level: Literal["org", "member", "meeting"]
    org: dict[str, Any] | None
    parameters: dict[str, Any]
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None
    generated_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A number only the total has (how many meetings or members, the ratios of a
        # member-level adoption report) gets a column of its own, empty on the rows: a CSV or
        # XLSX export carries every number of the JSON.
        if self.total is None:
            return
        have = {c.key for c in self.columns}
        self.columns = self.columns + [
            TOTAL_ONLY_COLUMNS[key]
            for key, value in self.total.items()
            if key not in have and isinstance(value, int | float) and not isinstance(value, bool)
        ]


@dataclass(frozen=True)
class Scope:
    org: asyncpg.Record | None  # the report's node, or None for a member's own row
    member_id: UUID

    @property
    def is_self(self) -> bool:
        return self.org is None

    @property
    def is_cell(self) -> bool:
        return self.org is not None and self.org["kind"] in CELL_KINDS


@dataclass(frozen=True)
class Period:
    from_month: str
    to_month: str
    since: datetime
    until: datetime

    @property
    def months(self) -> list[str]:
        y, m = map(int, self.from_month.split("-"))
        out = []
        while f"{y:04d}-{m:02d}" <= self.to_month:
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


_MONTH_RE = re.compile(r"^(20\d\d|2100)-(0[1-9]|1[0-2])$")


def _month_start(text: str, name: str) -> datetime:
    if not _MONTH_RE.match(text):
        raise Unprocessable(
            f"Tham số {name} phải là tháng dạng YYYY-MM (từ 2000-01 đến 2100-12)",
            extensions={"errors": [{"loc": ["query", name], "type": "month"}]},
        )
    y, m = map(int, text.split("-"))
    return datetime(y, m, 1, tzinfo=LOCAL_TZ)


def _next_month(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)


def period(
    from_month: str | None, to_month: str | None, now: datetime, default_months: int = 3
) -> Period:
    """A range of whole months (Hà Nội time), both ends included, at most 24 months."""
    local_now = now.astimezone(LOCAL_TZ)
    to_text = to_month or f"{local_now.year:04d}-{local_now.month:02d}"
    to_start = _month_start(to_text, "to")
    if from_month is None:
        y, m = to_start.year, to_start.month - (default_months - 1)
        while m < 1:
            y, m = y - 1, m + 12
        from_month = f"{y:04d}-{m:02d}"
    from_start = _month_start(from_month, "from")
    if from_start > to_start:
        raise Unprocessable("Tháng bắt đầu (from) phải không sau tháng kết thúc (to)")
    span = (to_start.year - from_start.year) * 12 + to_start.month - from_start.month + 1
    if span > MAX_MONTHS:
        raise Unprocessable(f"Khoảng thời gian tối đa là {MAX_MONTHS} tháng")
    return Period(
        from_month,
        to_text,
        from_start.astimezone(UTC),
        _next_month(to_start).astimezone(UTC),
    )


async def resolve_scope(conn: Connection, who: Principal, org_id: UUID | None) -> Scope:
    """The report's node: ``org_id`` when the caller holds a report role on it or above (else
    404: outside one's subtree nothing is confirmed); without ``org_id`` the caller's widest
    report subtree, or — for a member without report roles — their own row only."""
    if org_id is not None:
        org = await repo.org_by_id(conn, org_id)
        if org is None or not who.can(REPORT_ROLES, org["path"]):
            raise NotFound("Không tìm thấy tổ chức trong phạm vi của bạn")
        return Scope(org, who.member_id)
    roots = who.subtree_roots(REPORT_ROLES)
    for path in sorted(roots, key=lambda p: (p.count("."), p)):
        org = await repo.org_by_path(conn, path)
        if org is not None:
            return Scope(org, who.member_id)
    return Scope(None, who.member_id)


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _org_info(org: asyncpg.Record | None) -> dict[str, Any] | None:
    if org is None:
        return None
    return {
        "org_id": str(org["org_id"]),
        "org_path": org["path"],
        "org_title": org["title"],
        "org_kind": org["kind"],
    }


ORG_COLUMNS = [Column("org_title", "Tổ chức", "text"), Column("org_path", "Mã đường dẫn", "text")]
# A member is shown by name and party-card number (identity's directory, DESIGN.md §6), never
# by the internal id; the id stays in the JSON rows (``member_id``) for drilling down.
MEMBER_COLUMNS = [
    Column("full_name", "Họ và tên", "text"),
    Column("card_number", "Số thẻ đảng viên", "text"),
    Column("org_path", "Chi bộ (đường dẫn)", "text"),
]


async def _named(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each member row gets the member's name and card number (None once the member left and
    identity erased them)."""
    names = await idp.names_of(conn, [UUID(str(r["member_id"])) for r in rows])
    for r in rows:
        name = names[UUID(str(r["member_id"]))]
        r["full_name"], r["card_number"] = name.full_name, name.card_number
    return rows


async def _org_rows(
    conn: Connection,
    scope: Scope,
    data: Mapping[str, Mapping[str, Any]],
    zero: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """One row per open child of the node (zeros where nothing happened), plus the node itself
    when something is attributed to it directly (e.g. a committee's own meeting)."""
    assert scope.org is not None
    kids = await repo.children(conn, scope.org["org_id"])
    known = {k["path"]: k for k in kids}
    extra_paths = [p for p in data if p not in known and p != scope.org["path"]]
    if extra_paths:  # closed children that still hold history
        known.update(await repo.orgs_by_paths(conn, extra_paths))
    rows = []
    if scope.org["path"] in data:
        rows.append({**(_org_info(scope.org) or {}), **data[scope.org["path"]], "org_self": True})
    for path in sorted(known, key=_path_sort_key):
        rows.append({**(_org_info(known[path]) or {}), **zero, **data.get(path, {})})
    return rows


def _path_sort_key(path: str) -> list[int]:
    return [int(p) if p.isdigit() else 0 for p in path.split(".")]


def _sum(rows: Iterable[Mapping[str, Any]], keys: Sequence[str]) -> dict[str, Any]:
    return {k: sum(int(r.get(k) or 0) for r in rows) for k in keys}


def _with_ratios(
    row: dict[str, Any], ratios: Mapping[str, tuple[str, str | Callable[[Mapping[str, Any]], int]]]
) -> dict[str, Any]:
    for key, (num, den) in ratios.items():
        whole = den(row) if callable(den) else int(row.get(den) or 0)
        row[key] = ratio(int(row.get(num) or 0), whole)
    return row


# == document reach =========================================================================

REACH_COUNTS = [
    "publications",
    "audience",
    "notified",
    "opened",
    "studied",
    "overdue",
    "passed",
]
REACH_COLUMNS = [
    Column("publications", "Số lượt phát hành"),
    Column("audience", "Số đảng viên được gửi"),
    Column("notified", "Đã nhận thông báo"),
    Column("opened", "Đã mở"),
    Column("studied", "Đã học tập"),
    Column("overdue", "Quá hạn chưa học"),
    Column("opened_ratio", "Tỷ lệ đã mở", "ratio"),
    Column("studied_ratio", "Tỷ lệ đã học tập", "ratio"),
    # The last stage of the funnel (sent → opened → studied → passed): members who passed the
    # version's quiz; 0 where a publication's version has no quiz.
    Column("passed", "Đã đạt bài kiểm tra"),
    Column("passed_ratio", "Tỷ lệ đạt bài kiểm tra", "ratio"),
]
REACH_RATIOS = {
    "opened_ratio": ("opened", "audience"),
    "studied_ratio": ("studied", "audience"),
    "passed_ratio": ("passed", "audience"),
}


async def document_reach(
    conn: Connection,
    who: Principal,
    *,
    org_id: UUID | None,
    document_id: UUID | None,
    publication_id: UUID | None,
    months: Period | None,
    now: datetime,
) -> Report:
    scope = await resolve_scope(conn, who, org_id)
    by_member = scope.is_self or scope.is_cell
    args: dict[str, Any] = {
        "root": scope.org["path"] if scope.org is not None else None,
        "member_id": scope.member_id if scope.is_self else None,
        "now": now,
        "document_id": document_id,
        "publication_id": publication_id,
        "since": months.since if months else None,
        "until": months.until if months else None,
    }
    rows_db, totals = await repo.reach(conn, group="member" if by_member else "child", **args)
    data = {r["key"]: {k: r[k] for k in REACH_COUNTS} for r in rows_db}
    if by_member:
        rows = [
            {"member_id": r["key"], "org_path": r["org_path"], **data[r["key"]]} for r in rows_db
        ]
        if scope.is_self and not rows:
            rows = [{"member_id": str(scope.member_id), "org_path": who.org_path or ""}]
            rows[0].update(dict.fromkeys(REACH_COUNTS, 0))
        rows = await _named(conn, rows)
        lead = MEMBER_COLUMNS
    else:
        rows = await _org_rows(conn, scope, data, dict.fromkeys(REACH_COUNTS, 0))
        lead = ORG_COLUMNS
    rows = [_with_ratios(r, REACH_RATIOS) for r in rows]
    total = {k: totals[k] for k in REACH_COUNTS}
    total = _with_ratios(total, REACH_RATIOS)
    named = await _document_named(conn, who, scope, document_id, publication_id, total)
    projecting = await repo.projecting(
        conn,
        path=args["root"] if scope.org is not None else who.org_path,
        document_id=document_id,
        publication_id=publication_id,
        since=args["since"],
        until=args["until"],
    )
    return Report(
        report="document-reach",
        title="Mức độ tiếp cận văn bản",
        scope="self" if scope.is_self else "org",
        level="member" if by_member else "org",
        org=_org_info(scope.org),
        parameters={
            "document_id": str(document_id) if document_id else None,
            "publication_id": str(publication_id) if publication_id else None,
            "document_number": named[0] if named else None,
            "document_title": named[1] if named else None,
            "from": months.from_month if months else None,
            "to": months.to_month if months else None,
        },
        columns=lead + REACH_COLUMNS,
        rows=rows,
        total=total,
        generated_at=now,
        # Publications whose audience is still being written (a large one, in chunks): their
        # numbers are partial until it is 0.
        extra={"projecting": projecting},
    )


# Who may read a restricted document's title: its audience's committee members (and admins).
RESTRICTED_READERS = ("committee_member", "org_admin")


async def _document_named(
    conn: Connection,
    who: Principal,
    scope: Scope,
    document_id: UUID | None,
    publication_id: UUID | None,
    total: Mapping[str, Any],
) -> tuple[str | None, str] | None:
    """The reach report's document by number and title — only when it was addressed inside the
    report's scope (someone in it is in the audience), and a restricted one only to committee
    members: a title is not confirmed to whom it was not sent."""
    if (document_id is None and publication_id is None) or not total.get("audience"):
        return None
    row = await repo.document_name(conn, document_id, publication_id)
    if row is None:
        return None
    if row["classification"] == "restricted" and not (
        scope.org is not None and who.can(RESTRICTED_READERS, scope.org["path"])
    ):
        return None
    return row["number"], row["title"]


def _period_params(months: Period) -> dict[str, Any]:
    return {"from": months.from_month, "to": months.to_month}


# == attendance by org node and month =======================================================

ATTENDANCE_COUNTS = [
    "meetings_held",
    "regular_held",
    "regular_on_schedule",
    "invited",
    "present",
    "late",
    "absent_excused",
    "absent_unexcused",
    "exempt",
    "quorum_met",
]
ATTENDANCE_COLUMNS = [
    Column("month", "Tháng", "month"),
    Column("meetings_held", "Số cuộc họp đã tổ chức"),
    Column("regular_held", "Sinh hoạt thường kỳ đã tổ chức"),
    Column("regular_on_schedule", "Sinh hoạt thường kỳ đúng kỳ"),
    Column("invited", "Số lượt triệu tập"),
    Column("present", "Có mặt"),
    Column("late", "Đến muộn"),
    Column("absent_excused", "Vắng có lý do"),
    Column("absent_unexcused", "Vắng không lý do"),
    Column("exempt", "Miễn sinh hoạt"),
    Column("attendance_rate", "Tỷ lệ tham dự", "ratio"),
    Column("quorum_met", "Số cuộc họp đủ số lượng"),
]
MEMBER_ATTENDANCE_COUNTS = [
    "meetings_invited",
    "present",
    "late",
    "absent_excused",
    "absent_unexcused",
]
MEMBER_ATTENDANCE_COLUMNS = [
    Column("month", "Tháng", "month"),
    Column("meetings_invited", "Số cuộc họp được triệu tập"),
    Column("present", "Có mặt"),
    Column("late", "Đến muộn"),
    Column("absent_excused", "Vắng có lý do"),
    Column("absent_unexcused", "Vắng không lý do"),
    Column("attendance_rate", "Tỷ lệ tham dự", "ratio"),
]


def _attendance_base(row: Mapping[str, Any]) -> int:
    return int(row.get("invited") or 0) - int(row.get("exempt") or 0)


ATTENDANCE_RATIOS: dict[str, tuple[str, str | Callable[[Mapping[str, Any]], int]]] = {
    "attendance_rate": ("attending", _attendance_base)
}
MEMBER_ATTENDANCE_RATIOS: dict[str, tuple[str, str | Callable[[Mapping[str, Any]], int]]] = {
    "attendance_rate": ("attending", "meetings_invited")
}


def _attending(row: dict[str, Any]) -> dict[str, Any]:
    row["attending"] = int(row.get("present") or 0) + int(row.get("late") or 0)
    return row


def _drop_attending(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("attending", None)
    return row


async def attendance(
    conn: Connection, who: Principal, *, org_id: UUID | None, months: Period, now: datetime
) -> Report:
    scope = await resolve_scope(conn, who, org_id)
    by_member = scope.is_self or scope.is_cell
    rows: list[dict[str, Any]] = []
    if by_member:
        found = await repo.attendance_by_member(
            conn,
            root=scope.org["path"] if scope.org is not None else None,
            member_id=scope.member_id if scope.is_self else None,
            since=months.since,
            until=months.until,
        )
        for r in found:
            row = {"member_id": r["key"], "org_path": r["org_path"], "month": r["month"]}
            row.update({k: r[k] for k in MEMBER_ATTENDANCE_COUNTS})
            rows.append(row)
        rows = await _named(conn, rows)
        counts, ratios, lead, cols = (
            MEMBER_ATTENDANCE_COUNTS,
            MEMBER_ATTENDANCE_RATIOS,
            MEMBER_COLUMNS,
            MEMBER_ATTENDANCE_COLUMNS,
        )
    else:
        assert scope.org is not None
        found = await repo.attendance_by_org(conn, scope.org["path"], months.since, months.until)
        by_month: dict[str, dict[str, dict[str, Any]]] = {}
        for r in found:
            by_month.setdefault(r["month"], {})[r["key"]] = {k: r[k] for k in ATTENDANCE_COUNTS}
        for month in months.months:
            for row in await _org_rows(
                conn, scope, by_month.get(month, {}), dict.fromkeys(ATTENDANCE_COUNTS, 0)
            ):
                row["month"] = month
                rows.append(row)
        counts, ratios, lead, cols = (
            ATTENDANCE_COUNTS,
            ATTENDANCE_RATIOS,
            ORG_COLUMNS,
            ATTENDANCE_COLUMNS,
        )
    rows = [_drop_attending(_with_ratios(_attending(r), ratios)) for r in rows]
    total = _drop_attending(_with_ratios(_attending(_sum(rows, counts)), ratios))
    return Report(
        report="attendance",
        title="Tình hình sinh hoạt chi bộ theo tháng",
        scope="self" if scope.is_self else "org",
        level="member" if by_member else "org",
        org=_org_info(scope.org),
        parameters=_period_params(months),
        columns=lead + cols,
        rows=rows,
        total=total,
        generated_at=now,
    )


# == attendance per meeting =================================================================

MEETING_KIND_LABELS = {
    "regular": "Thường kỳ",
    "thematic": "Chuyên đề",
    "extraordinary": "Bất thường",
    "committee": "Họp cấp ủy",
}
STATUS_LABELS = {
    "present": "Có mặt",
    "late": "Đến muộn",
    "absent_excused": "Vắng có lý do",
    "absent_unexcused": "Vắng không lý do",
    "exempt": "Miễn sinh hoạt",
}
MEETING_COLUMNS = [
    Column("meeting_id", "Mã cuộc họp", "text"),
    Column("org_title", "Tổ chức", "text"),
    Column("org_path", "Mã đường dẫn", "text"),
    Column("kind", "Loại", "text"),
    Column("starts_at", "Thời gian bắt đầu", "datetime"),
    Column("on_schedule", "Đúng kỳ", "bool"),
    Column("invited", "Số triệu tập"),
    Column("present", "Có mặt"),
    Column("late", "Đến muộn"),
    Column("absent_excused", "Vắng có lý do"),
    Column("absent_unexcused", "Vắng không lý do"),
    Column("exempt", "Miễn sinh hoạt"),
    Column("attendance_rate", "Tỷ lệ tham dự", "ratio"),
    Column("quorum_met", "Đủ số lượng", "bool"),
]
MEETING_COUNTS = ["invited", "present", "late", "absent_excused", "absent_unexcused", "exempt"]


async def meetings(
    conn: Connection,
    who: Principal,
    *,
    org_id: UUID | None,
    months: Period,
    now: datetime,
    max_rows: int | None,
) -> Report:
    scope = await resolve_scope(conn, who, org_id)
    found = await repo.meetings(
        conn,
        root=scope.org["path"] if scope.org is not None else None,
        member_id=scope.member_id if scope.is_self else None,
        since=months.since,
        until=months.until,
        limit=None if max_rows is None else max_rows + 1,
    )
    check_rows(len(found), max_rows)
    rows = []
    for r in found:
        local_start = r["starts_at"].astimezone(LOCAL_TZ)
        planned = r["scheduled_starts_at"].astimezone(LOCAL_TZ)
        row: dict[str, Any] = {
            "meeting_id": str(r["meeting_id"]),
            "org_id": str(r["org_id"]),
            "org_title": r["org_title"] or "",
            "org_path": r["org_path"],
            "kind": MEETING_KIND_LABELS.get(r["kind"], r["kind"]),
            "kind_code": r["kind"],
            "starts_at": local_start.isoformat(),
            "on_schedule": (local_start.year, local_start.month) == (planned.year, planned.month),
            **{k: int(r[k] or 0) for k in MEETING_COUNTS},
            "quorum_met": bool(r["quorum_met"]),
        }
        if scope.is_self:
            row["my_status"] = STATUS_LABELS.get(r["my_status"], r["my_status"])
        rows.append(_drop_attending(_with_ratios(_attending(row), ATTENDANCE_RATIOS)))
    total = _sum(rows, MEETING_COUNTS)
    total["meetings"] = len(rows)
    total["quorum_met"] = sum(1 for r in rows if r["quorum_met"])
    total = _drop_attending(_with_ratios(_attending(total), ATTENDANCE_RATIOS))
    cols = list(MEETING_COLUMNS)
    if scope.is_self:
        cols.append(Column("my_status", "Tình trạng của tôi", "text"))
    return Report(
        report="meetings",
        title="Tham dự theo từng cuộc họp",
        scope="self" if scope.is_self else "org",
        level="meeting",
        org=_org_info(scope.org),
        parameters=_period_params(months),
        columns=cols,
        rows=rows,
        total=total,
        generated_at=now,
    )


# == adoption ===============================================================================

ADOPTION_COUNTS = ["orgs", "orgs_using", "members", "activated", "active"]
ADOPTION_COLUMNS = [
    Column("orgs", "Số tổ chức đảng"),
    Column("orgs_using", "Tổ chức sử dụng (30 ngày)"),
    Column("orgs_using_ratio", "Tỷ lệ tổ chức sử dụng", "ratio"),
    Column("members", "Số đảng viên"),
    Column("activated", "Đã kích hoạt tài khoản"),
    Column("activated_ratio", "Tỷ lệ kích hoạt", "ratio"),
    Column("active", "Hoạt động (30 ngày)"),
    Column("active_ratio", "Tỷ lệ hoạt động", "ratio"),
]
ADOPTION_RATIOS: dict[str, tuple[str, str | Callable[[Mapping[str, Any]], int]]] = {
    "orgs_using_ratio": ("orgs_using", "orgs"),
    "activated_ratio": ("activated", "members"),
    "active_ratio": ("active", "members"),
}
MEMBER_ADOPTION_COLUMNS = [
    Column("activated", "Đã kích hoạt tài khoản", "bool"),
    Column("activated_at", "Ngày kích hoạt", "datetime"),
    Column("active", "Hoạt động (30 ngày)", "bool"),
    Column("last_active_at", "Hoạt động gần nhất", "datetime"),
]
# Columns for counts only a total has (see Report.__post_init__).
TOTAL_ONLY_COLUMNS = {
    c.key: c
    for c in (
        Column("meetings", "Số cuộc họp"),
        Column("members", "Số đảng viên"),
        *ADOPTION_COLUMNS,
    )
}


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(LOCAL_TZ).isoformat() if value is not None else None


async def adoption(
    conn: Connection, who: Principal, *, org_id: UUID | None, now: datetime
) -> Report:
    scope = await resolve_scope(conn, who, org_id)
    by_member = scope.is_self or scope.is_cell
    since = now - timedelta(days=ACTIVE_DAYS)
    root = scope.org["path"] if scope.org is not None else None
    members = await repo.adoption_members(
        conn,
        root=root,
        member_id=scope.member_id if scope.is_self else None,
        by_member=by_member,
        active_since=since,
    )
    if by_member:
        rows = [
            {
                "member_id": r["key"],
                "org_path": r["org_path"],
                "activated": bool(r["activated"]),
                "activated_at": _iso(r["activated_at"]),
                "active": bool(r["active"]),
                "last_active_at": _iso(r["last_active_at"]),
            }
            for r in members
        ]
        rows = await _named(conn, rows)
        total = {
            "members": len(rows),
            "activated": sum(r["activated"] for r in rows),
            "active": sum(r["active"] for r in rows),
        }
        total = _with_ratios(
            total, {k: v for k, v in ADOPTION_RATIOS.items() if k != "orgs_using_ratio"}
        )
        if root is not None:
            org_totals = await repo.adoption_orgs(conn, root, since)
            total["orgs"] = sum(int(r["orgs"]) for r in org_totals)
            total["orgs_using"] = sum(int(r["orgs_using"]) for r in org_totals)
            total["orgs_using_ratio"] = ratio(total["orgs_using"], total["orgs"])
        lead, cols = MEMBER_COLUMNS, MEMBER_ADOPTION_COLUMNS
    else:
        assert root is not None
        data: dict[str, dict[str, Any]] = {}
        for r in members:
            data.setdefault(r["key"], {}).update(
                members=r["members"], activated=r["activated"], active=r["active"]
            )
        for r in await repo.adoption_orgs(conn, root, since):
            data.setdefault(r["key"], {}).update(orgs=r["orgs"], orgs_using=r["orgs_using"])
        zero = dict.fromkeys(ADOPTION_COUNTS, 0)
        rows = [
            _with_ratios({**zero, **r}, ADOPTION_RATIOS)
            for r in await _org_rows(conn, scope, data, zero)
        ]
        total = _with_ratios(_sum(rows, ADOPTION_COUNTS), ADOPTION_RATIOS)
        lead, cols = ORG_COLUMNS, ADOPTION_COLUMNS
    return Report(
        report="adoption",
        title="Mức độ sử dụng so với mục tiêu",
        scope="self" if scope.is_self else "org",
        level="member" if by_member else "org",
        org=_org_info(scope.org),
        parameters={"active_days": ACTIVE_DAYS},
        columns=lead + cols,
        rows=rows,
        total=total,
        generated_at=now,
        extra={"targets": TARGETS},
    )


# == annual review grades ==================================================================

GRADE_COUNTS = ["cells", "graded", "excellent", "good", "complete", "incomplete"]
GRADE_COLUMNS = [
    Column("cells", "Chi bộ đã có quyết định"),
    Column("graded", "Đảng viên được xếp loại"),
    Column("excellent", "Hoàn thành xuất sắc nhiệm vụ"),
    Column("excellent_ratio", "Tỷ lệ xuất sắc", "ratio"),
    Column("good", "Hoàn thành tốt nhiệm vụ"),
    Column("good_ratio", "Tỷ lệ tốt", "ratio"),
    Column("complete", "Hoàn thành nhiệm vụ"),
    Column("complete_ratio", "Tỷ lệ hoàn thành", "ratio"),
    Column("incomplete", "Không hoàn thành nhiệm vụ"),
    Column("incomplete_ratio", "Tỷ lệ không hoàn thành", "ratio"),
]
GRADE_RATIOS: dict[str, tuple[str, str | Callable[[Mapping[str, Any]], int]]] = {
    f"{k}_ratio": (k, "graded") for k in ("excellent", "good", "complete", "incomplete")
}


async def grades(
    conn: Connection, who: Principal, *, org_id: UUID | None, year: int | None, now: datetime
) -> Report:
    """The annual review's final grades by org subtree and year (counts, no member)."""
    scope = await resolve_scope(conn, who, org_id)
    if scope.org is None:
        raise NotFound("Báo cáo xếp loại dành cho cấp ủy và chi bộ trong phạm vi của mình")
    year = year or now.astimezone(LOCAL_TZ).year
    data: dict[str, dict[str, Any]] = {}
    for r in await repo.grades_by_org(conn, scope.org["path"], year):
        row = {k: int(r[k]) for k in GRADE_COUNTS if k != "graded"}
        row["graded"] = sum(row[k] for k in ("excellent", "good", "complete", "incomplete"))
        data[r["key"]] = row
    zero = dict.fromkeys(GRADE_COUNTS, 0)
    rows = [
        _with_ratios({**zero, **r}, GRADE_RATIOS) for r in await _org_rows(conn, scope, data, zero)
    ]
    return Report(
        report="grades",
        title=f"Kết quả xếp loại chất lượng đảng viên năm {year}",
        scope="org",
        level="org",
        org=_org_info(scope.org),
        parameters={"year": year},
        columns=ORG_COLUMNS + GRADE_COLUMNS,
        rows=rows,
        total=_with_ratios(_sum(rows, GRADE_COUNTS), GRADE_RATIOS),
        generated_at=now,
    )


# == members lagging ========================================================================

LAGGING_COLUMNS = [
    Column("meetings_invited", "Số cuộc họp được triệu tập"),
    Column("absent_excused", "Vắng có lý do"),
    Column("absent_unexcused", "Vắng không lý do"),
    Column("overdue", "Văn bản quá hạn chưa học"),
]
LAGGING_COUNTS = ["meetings_invited", "absent_excused", "absent_unexcused", "overdue"]


async def lagging(
    conn: Connection,
    who: Principal,
    *,
    org_id: UUID | None,
    months: Period,
    min_unexcused: int,
    now: datetime,
    max_rows: int | None,
) -> Report:
    scope = await resolve_scope(conn, who, org_id)
    found = await repo.lagging(
        conn,
        root=scope.org["path"] if scope.org is not None else None,
        member_id=scope.member_id if scope.is_self else None,
        since=months.since,
        until=months.until,
        now=now,
        min_unexcused=min_unexcused,
        limit=None if max_rows is None else max_rows + 1,
    )
    check_rows(len(found), max_rows)
    rows = [
        {"member_id": r["key"], "org_path": r["org_path"], **{k: r[k] for k in LAGGING_COUNTS}}
        for r in found
    ]
    rows = await _named(conn, rows)
    total = _sum(rows, LAGGING_COUNTS)
    total["members"] = len(rows)
    return Report(
        report="lagging",
        title="Đảng viên cần nhắc nhở",
        scope="self" if scope.is_self else "org",
        level="member",
        org=_org_info(scope.org),
        parameters={**_period_params(months), "min_unexcused": min_unexcused},
        columns=MEMBER_COLUMNS + LAGGING_COLUMNS,
        rows=rows,
        total=total,
        generated_at=now,
    )
