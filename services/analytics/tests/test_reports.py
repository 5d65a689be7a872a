"""Reports on a scenario with known answers, fed as real events through the service's own
consumers; access rules; parameters; CSV and XLSX; gauges."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from prometheus_client import REGISTRY
from sotay_analytics import metrics
from sotay_contracts.events import identity as iev
from sotay_kit.app import get_settings

from .conftest import REPORT_NOW, AnalyticsApp, month_scenario

MONTHS = {"from": "2026-10", "to": "2026-11"}


def _by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in rows}


def _pick(row: dict[str, Any], *keys: str) -> tuple[Any, ...]:
    return tuple(row[k] for k in keys)


REACH = ("audience", "notified", "opened", "studied", "overdue")


@pytest.fixture
async def world(svc: AnalyticsApp) -> AnalyticsApp:
    scenario = month_scenario(svc.world)
    svc.scenario = scenario  # type: ignore[attr-defined]
    await svc.feed(*scenario.events)
    return svc


async def test_document_reach_drills_down_with_known_numbers(world: AnalyticsApp) -> None:
    w = world.world
    # The district's committee member: one row per child (the commune).
    r = await world.report("document-reach", "b4")
    assert r["org"]["org_path"] == "1.2" and r["level"] == "org"
    [commune] = r["rows"]
    assert commune["org_path"] == "1.2.3"
    assert _pick(commune, *REACH) == (10, 6, 4, 2, 8)
    assert commune["publications"] == 1  # P3 was retracted
    assert commune["studied_ratio"] == 0.2

    # Drill down to the commune: cell A and cell B (a5 counts in A, where it was published).
    r = await world.report("document-reach", "b4", org_id=str(w.orgs["commune"]))
    rows = _by(r["rows"], "org_path")
    assert _pick(rows["1.2.3.4"], *REACH) == (6, 5, 3, 2, 4)
    assert _pick(rows["1.2.3.5"], *REACH) == (4, 1, 1, 0, 4)
    assert _pick(r["total"], *REACH) == (10, 6, 4, 2, 8)

    # Drill down to cell A: one row per member.
    r = await world.report("document-reach", "b4", org_id=str(w.orgs["cell_a"]))
    assert r["level"] == "member"
    members = _by(r["rows"], "member_id")
    assert set(members) == {str(w.members[n]) for n in ("a1", "a2", "a3", "a4", "a5", "a6")}
    assert _pick(members[str(w.members["a1"])], *REACH) == (1, 1, 1, 1, 0)
    assert _pick(members[str(w.members["a6"])], *REACH) == (1, 0, 0, 0, 1)

    # The province: both districts; P2 reached cell C including the transferred a5.
    r = await world.report("document-reach", "c1")
    rows = _by(r["rows"], "org_path")
    assert _pick(rows["1.6"], *REACH) == (3, 0, 1, 1, 0)
    assert r["total"]["publications"] == 2 and r["total"]["audience"] == 13

    # Filter by one publication.
    r = await world.report("document-reach", "c1", publication_id=str(world.scenario.p2))  # type: ignore[attr-defined]
    assert r["total"]["audience"] == 3


async def test_attendance_by_org_and_month(world: AnalyticsApp) -> None:
    w = world.world
    r = await world.report("attendance", "b4", org_id=str(w.orgs["commune"]), **MONTHS)
    rows = {(row["month"], row["org_path"]): row for row in r["rows"]}
    keys = (
        "meetings_held", "regular_held", "regular_on_schedule", "invited", "present", "late",
        "absent_excused", "absent_unexcused", "exempt", "quorum_met", "attendance_rate",
    )  # fmt: skip
    assert _pick(rows[("2026-10", "1.2.3.4")], *keys) == (1, 1, 1, 6, 1, 1, 2, 1, 1, 0, 0.4)
    assert _pick(rows[("2026-10", "1.2.3.5")], *keys) == (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, None)
    assert _pick(rows[("2026-11", "1.2.3.4")], *keys) == (1, 1, 0, 6, 4, 0, 0, 1, 1, 1, 0.8)
    assert _pick(rows[("2026-11", "1.2.3.5")], *keys) == (1, 0, 0, 4, 4, 0, 0, 0, 0, 1, 1.0)
    assert _pick(r["total"], *keys) == (3, 2, 1, 16, 9, 1, 2, 2, 2, 2, 0.7143)

    # The cell's secretary sees her cell by member and month.
    r = await world.report("attendance", "a1", **MONTHS)
    assert r["level"] == "member" and r["org"]["org_path"] == "1.2.3.4"
    a5 = [row for row in r["rows"] if row["member_id"] == str(w.members["a5"])]
    assert [(x["month"], x["absent_unexcused"]) for x in a5] == [("2026-10", 1), ("2026-11", 1)]


async def test_meetings_report_lists_held_meetings(world: AnalyticsApp) -> None:
    w = world.world
    r = await world.report("meetings", "b4", org_id=str(w.orgs["commune"]), **MONTHS)
    rows = _by(r["rows"], "meeting_id")
    s = world.scenario  # type: ignore[attr-defined]
    assert set(rows) == {str(s.m1), str(s.m2), str(s.m3)}  # the cancelled one is not held
    m1, m2 = rows[str(s.m1)], rows[str(s.m2)]
    assert (m1["present"], m1["late"], m1["absent_excused"], m1["absent_unexcused"]) == (1, 1, 2, 1)
    assert (m1["quorum_met"], m1["on_schedule"], m1["attendance_rate"]) == (False, True, 0.4)
    assert (m2["quorum_met"], m2["on_schedule"]) == (True, False)
    assert m1["starts_at"] == "2026-10-20T19:00:00+07:00"


async def test_adoption_against_targets(world: AnalyticsApp) -> None:
    w = world.world
    r = await world.report("adoption", "b4", org_id=str(w.orgs["commune"]))
    assert r["targets"] == {"orgs_using_ratio": 1.0, "activated_ratio": 0.95, "active_ratio": 0.9}
    rows = _by(r["rows"], "org_path")
    keys = ("orgs", "orgs_using", "members", "activated", "active")
    assert _pick(rows["1.2.3.4"], *keys) == (1, 1, 6, 4, 3)  # a5 left, a7 joined
    assert _pick(rows["1.2.3.5"], *keys) == (1, 1, 4, 3, 2)  # b2 activated, not active
    assert _pick(rows["1.2.3"], *keys) == (1, 0, 0, 0, 0)  # the commune committee itself
    assert _pick(r["total"], *keys) == (3, 2, 10, 7, 5)
    assert r["total"]["activated_ratio"] == 0.7

    r = await world.report("adoption", "c1")
    rows = _by([x for x in r["rows"] if not x.get("org_self")], "org_path")
    assert _pick(rows["1.6"], *keys) == (2, 2, 3, 2, 2)
    assert _pick(rows["1.2"], *keys) == (4, 2, 10, 7, 5)

    # Per member in a cell.
    r = await world.report("adoption", "a1")
    members = _by(r["rows"], "member_id")
    a4 = members[str(w.members["a4"])]
    assert (a4["activated"], a4["active"]) == (True, False)


async def test_members_lagging(world: AnalyticsApp) -> None:
    w = world.world
    r = await world.report("lagging", "c2", **MONTHS)  # district 2: a5 is there now
    [row] = r["rows"]
    assert row["member_id"] == str(w.members["a5"])
    assert (row["absent_unexcused"], row["overdue"], row["meetings_invited"]) == (2, 1, 2)

    r = await world.report("lagging", "b4", org_id=str(w.orgs["commune"]), **MONTHS)
    lagging = {x["member_id"] for x in r["rows"]}
    expected = {"a2", "a4", "a6", "b1", "b2", "b3", "b4"}  # P1 overdue
    assert lagging == {str(w.members[n]) for n in expected}


async def test_member_sees_only_their_own_row(world: AnalyticsApp) -> None:
    w = world.world
    me = str(w.members["a2"])
    r = await world.report("document-reach", "a2")
    assert r["scope"] == "self" and r["org"] is None
    [row] = r["rows"]
    assert row["member_id"] == me and _pick(row, *REACH) == (1, 1, 1, 0, 1)
    for name in ("attendance", "meetings", "adoption", "lagging"):
        r = await world.report(name, "a2", **({} if name == "adoption" else MONTHS))
        assert r["scope"] == "self"
        assert {x.get("member_id", me) for x in r["rows"]} <= {me}
    r = await world.report("meetings", "a2", **MONTHS)
    assert [x["my_status"] for x in r["rows"]] == ["Đến muộn", "Có mặt"]
    # Asking for an org is refused without a report role there.
    resp = await world.client.get(
        "/api/v1/reports/attendance",
        params={"org_id": str(w.orgs["cell_a"])},
        headers=world.auth("a2"),
    )
    assert resp.status_code == 404


@pytest.mark.parametrize(
    "report", ["document-reach", "attendance", "meetings", "adoption", "lagging"]
)
async def test_other_district_is_not_found(world: AnalyticsApp, report: str) -> None:
    w = world.world
    for org in ("district", "cell_a", "province"):
        resp = await world.client.get(
            f"/api/v1/reports/{report}",
            params={"org_id": str(w.orgs[org])},
            headers=world.auth("c2"),
        )
        assert resp.status_code == 404, (org, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
    resp = await world.client.get(f"/api/v1/reports/{report}")
    assert resp.status_code == 401


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13"},
        {"from": "26-01"},
        {"to": "1999-12"},
        {"from": "2026-11", "to": "2026-10"},
        {"from": "2024-01", "to": "2026-11"},  # 35 months
        {"org_id": "not-a-uuid"},
        {"format": "pdf"},
        {"min_unexcused": "0"},
    ],
)
async def test_bad_parameters_are_422(svc: AnalyticsApp, params: dict[str, str]) -> None:
    resp = await svc.client.get("/api/v1/reports/lagging", params=params, headers=svc.auth("c1"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["status"] == 422


async def test_unknown_org_is_404(svc: AnalyticsApp) -> None:
    resp = await svc.client.get(
        "/api/v1/reports/adoption", params={"org_id": str(uuid.uuid4())}, headers=svc.auth("c1")
    )
    assert resp.status_code == 404


async def test_csv_and_xlsx_carry_the_same_numbers(world: AnalyticsApp) -> None:
    w = world.world
    params = {"org_id": str(w.orgs["commune"]), **MONTHS}
    data = await world.report("attendance", "b4", **params)
    resp = await world.client.get(
        "/api/v1/reports/attendance", params={**params, "format": "csv"}, headers=world.auth("b4")
    )
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/csv; charset=utf-8"
    assert resp.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    assert "attachment" in resp.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    header = lines[0]
    assert header[:3] == ["Tổ chức", "Mã đường dẫn", "Tháng"]
    assert "Vắng không lý do" in header and "Tỷ lệ tham dự" in header
    assert len(lines) == 1 + len(data["rows"]) + 1
    total = dict(zip(header, lines[-1], strict=True))
    assert total["Tổ chức"] == "Tổng cộng"
    assert total["Số cuộc họp đã tổ chức"] == "3" and total["Có mặt"] == "9"
    assert total["Tỷ lệ tham dự"] == "0.7143"

    resp = await world.client.get(
        "/api/v1/reports/attendance", params={**params, "format": "xlsx"}, headers=world.auth("b4")
    )
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(resp.content)).active
    assert sheet is not None
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0] == header
    total_row = dict(zip(header, table[-1], strict=True))
    assert total_row["Tổ chức"] == "Tổng cộng"
    assert total_row["Có mặt"] == 9 and total_row["Tỷ lệ tham dự"] == 0.7143
    cell_a_oct = next(r for r in table[1:] if r[1] == "1.2.3.4" and r[2] == "2026-10")
    assert dict(zip(header, cell_a_oct, strict=True))["Vắng có lý do"] == 2

    # Booleans read as Vietnamese words.
    resp = await world.client.get(
        "/api/v1/reports/meetings", params={**params, "format": "csv"}, headers=world.auth("b4")
    )
    text = resp.content.decode("utf-8-sig")
    assert "Đủ số lượng" in text and ",Không," in text


# The node's own row in an org report (`org_self`): the file tells it by its org path.
ROW_FLAGS = frozenset({"org_self"})


def _json_cell(value: Any) -> tuple[str, Any]:
    """What the CSV and the XLSX must hold for a JSON value: (CSV text, XLSX value). A boolean
    reads as a word; a number stays the same number (a count in a yes/no column included)."""
    if value is None:
        return "", None
    if isinstance(value, bool):
        word = "Có" if value else "Không"
        return word, word
    if isinstance(value, int | float):
        return str(value), value
    return str(value), str(value)


@pytest.mark.parametrize(
    ("report", "org"),
    [
        ("document-reach", "commune"),
        ("document-reach", "cell_a"),  # one row per member
        ("attendance", "commune"),
        ("attendance", "cell_a"),
        ("meetings", "commune"),
        ("adoption", "commune"),
        ("adoption", "cell_a"),  # yes/no per member, counts in the total
        ("lagging", "commune"),
    ],
)
async def test_exports_carry_every_number_of_the_json(
    world: AnalyticsApp, report: str, org: str
) -> None:
    """Every number of the JSON answer — each row's and the total's — is in the CSV and the
    XLSX, in the column of its key; a JSON number without a column is a number lost."""
    params = {"org_id": str(world.world.orgs[org]), **({} if report == "adoption" else MONTHS)}
    data = await world.report(report, "b4", **params)
    assert data["rows"] and data["total"] is not None
    keys = [c["key"] for c in data["columns"]]
    lines = [*data["rows"], data["total"]]

    csv_resp = await world.client.get(
        f"/api/v1/reports/{report}", params={**params, "format": "csv"}, headers=world.auth("b4")
    )
    assert csv_resp.status_code == 200, csv_resp.text
    csv_table = list(csv.reader(io.StringIO(csv_resp.content.decode("utf-8-sig"))))
    xlsx_resp = await world.client.get(
        f"/api/v1/reports/{report}", params={**params, "format": "xlsx"}, headers=world.auth("b4")
    )
    assert xlsx_resp.status_code == 200, xlsx_resp.text
    sheet = load_workbook(io.BytesIO(xlsx_resp.content)).active
    assert sheet is not None
    xlsx_table = [list(r) for r in sheet.iter_rows(values_only=True)]

    labels = [c["label"] for c in data["columns"]]
    assert csv_table[0] == labels and xlsx_table[0] == labels
    assert len(csv_table) == len(xlsx_table) == 1 + len(lines)
    assert csv_table[-1][0] == xlsx_table[-1][0] == "Tổng cộng"
    compared = 0
    for n, line in enumerate(lines, start=1):
        for key, value in line.items():
            if not isinstance(value, int | float) or key in ROW_FLAGS:
                continue  # text and ids: only numbers (and yes/no) are checked here
            assert key in keys, f"{report}: {key} = {value} has no column in the export"
            col = keys.index(key)
            want_csv, want_xlsx = _json_cell(value)
            where = f"{report} line {n} {key}"
            assert csv_table[n][col] == want_csv, (where, csv_table[n][col], value)
            assert xlsx_table[n][col] == want_xlsx, (where, xlsx_table[n][col], value)
            compared += 1
    assert compared >= len(lines)


async def test_business_gauges(world: AnalyticsApp) -> None:
    nodes = await metrics.refresh(world.pool, REPORT_NOW)
    assert nodes == 3  # the province and its two districts

    def value(name: str, path: str) -> float | None:
        return REGISTRY.get_sample_value(name, {"org_path": path})

    assert value("sotay_analytics_members", "1.2") == 10
    assert value("sotay_analytics_members_activated_ratio", "1.2") == 0.7
    assert value("sotay_analytics_members_active_ratio", "1.2") == 0.5
    assert value("sotay_analytics_orgs_using_ratio", "1.2") == 0.5
    assert value("sotay_analytics_meetings_held", "1.2") == 3  # this month and last
    assert value("sotay_analytics_document_studied_ratio", "1.2") == 0.2
    assert value("sotay_analytics_members", "1") == 13
    assert "sotay_analytics_members" in metrics.EXPORTED_METRICS


async def test_reports_beyond_the_row_cap_are_refused(world: AnalyticsApp) -> None:
    w = world.world
    capped = world.settings.model_copy(update={"report_max_rows": 2})
    world.app.dependency_overrides[get_settings] = lambda: capped
    params = {"org_id": str(w.orgs["commune"]), **MONTHS}
    for name, fmt in (("meetings", "json"), ("meetings", "xlsx"), ("lagging", "csv")):
        resp = await world.client.get(
            f"/api/v1/reports/{name}", params={**params, "format": fmt}, headers=world.auth("b4")
        )
        assert resp.status_code == 422, (name, fmt, resp.text)
        problem = resp.json()
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert "2" in problem["detail"] and "thu hẹp" in problem["detail"]
    # Within the cap the report is answered as before.
    r = await world.report("meetings", "a2", **MONTHS)  # her own two meetings
    assert len(r["rows"]) == 2


async def test_exports_write_formulas_as_text(world: AnalyticsApp) -> None:
    w = world.world
    formula = '=HYPERLINK("http://x","y")'
    await world.feed(
        iev.OrgUpdated(
            org_id=w.orgs["cell_a"],
            path=w.paths["cell_a"],
            kind=iev.OrgKind("cell"),
            title=formula,
            status=iev.OrgStatus.ACTIVE,
            valid_from=date(2026, 1, 1),
            changed_fields=["title"],
            revision=2,
            occurred_at=REPORT_NOW,
        )
    )
    params = {"org_id": str(w.orgs["commune"]), **MONTHS}
    resp = await world.client.get(
        "/api/v1/reports/attendance", params={**params, "format": "csv"}, headers=world.auth("b4")
    )
    lines = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    titles = {line[0] for line in lines[1:]}
    assert "'" + formula in titles and formula not in titles
    assert lines[-1][0] == "Tổng cộng"  # numbers and plain text untouched

    resp = await world.client.get(
        "/api/v1/reports/meetings", params={**params, "format": "xlsx"}, headers=world.auth("b4")
    )
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.content)).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row if c.value == formula]
    assert cells and all(c.data_type == "s" for c in cells)
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    with zipfile.ZipFile(io.BytesIO(resp.content)) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")
