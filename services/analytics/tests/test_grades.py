"""The grades report: the annual review's final grades by org subtree and year, from the
cells' counts (meetings.review.cell_graded.v1), in JSON, CSV and XLSX."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

from openpyxl import load_workbook
from sotay_contracts.events import meetings as mev

from .conftest import REPORT_NOW, AnalyticsApp

G = mev.ReviewGrade
PERIOD = uuid.uuid4()


def _graded(
    svc: AnalyticsApp,
    cell: str,
    counts: tuple[int, int, int, int],
    minutes: int,
    *,
    year: int = 2026,
    period: uuid.UUID = PERIOD,
) -> mev.ReviewCellGraded:
    w = svc.world
    return mev.ReviewCellGraded(
        period_id=period,
        year=year,
        org_id=w.orgs[cell],
        org_path=w.paths[cell],
        counts=dict(zip((G.EXCELLENT, G.GOOD, G.COMPLETE, G.INCOMPLETE), counts, strict=True)),
        decided_by_org_id=w.orgs["commune"],
        decided_by=w.members["b4"],
        occurred_at=REPORT_NOW - timedelta(days=1, minutes=-minutes),
    )


async def test_grades_by_subtree_and_year(svc: AnalyticsApp) -> None:
    await svc.feed(
        _graded(svc, "cell_a", (1, 2, 0, 0), 0),
        _graded(svc, "cell_a", (1, 3, 1, 0), 5),  # a later decision: the cell's counts so far
        _graded(svc, "cell_b", (0, 3, 0, 1), 1),
        _graded(svc, "cell_c", (2, 2, 2, 2), 2, period=uuid.uuid4()),
        _graded(svc, "cell_b", (5, 5, 5, 5), 3, year=2025, period=uuid.uuid4()),
    )
    # An earlier decision arriving late does not undo the later one.
    await svc.feed(_graded(svc, "cell_a", (0, 1, 0, 0), -10))

    commune = await svc.report("grades", "b4", org_id=str(svc.world.orgs["commune"]), year=2026)
    rows = {r["org_path"]: r for r in commune["rows"]}
    a = rows[svc.world.paths["cell_a"]]
    assert (a["graded"], a["excellent"], a["good"], a["complete"], a["incomplete"]) == (
        5,
        1,
        3,
        1,
        0,
    )
    assert a["excellent_ratio"] == 0.2
    assert commune["total"]["graded"] == 9 and commune["total"]["cells"] == 2
    assert commune["title"].endswith("2026")

    district = await svc.report("grades", "b4", org_id=str(svc.world.orgs["district"]), year=2026)
    assert [(r["org_path"], r["graded"]) for r in district["rows"]] == [
        (svc.world.paths["commune"], 9)
    ]
    province = await svc.report("grades", "c1", year=2026)
    assert province["total"]["graded"] == 17
    last_year = await svc.report("grades", "c1", year=2025)
    assert last_year["total"]["graded"] == 20

    # Outside one's subtree: 404; a member without a report role has no grades report.
    r = await svc.client.get(
        "/api/v1/reports/grades",
        params={"org_id": str(svc.world.orgs["commune"])},
        headers=svc.auth("c2"),
    )
    assert r.status_code == 404
    r = await svc.client.get("/api/v1/reports/grades", headers=svc.auth("a2"))
    assert r.status_code == 404
    r = await svc.client.get(
        "/api/v1/reports/grades", params={"year": "1999"}, headers=svc.auth("c1")
    )
    assert r.status_code == 422

    params = {"org_id": str(svc.world.orgs["commune"]), "year": "2026"}
    r = await svc.client.get(
        "/api/v1/reports/grades", params={**params, "format": "csv"}, headers=svc.auth("b4")
    )
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert "Hoàn thành xuất sắc nhiệm vụ" in table[0]
    assert (
        table[-1][0] == "Tổng cộng" and table[-1][table[0].index("Đảng viên được xếp loại")] == "9"
    )
    r = await svc.client.get(
        "/api/v1/reports/grades", params={**params, "format": "xlsx"}, headers=svc.auth("b4")
    )
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    xlsx = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert xlsx[-1][xlsx[0].index("Đảng viên được xếp loại")] == 9
