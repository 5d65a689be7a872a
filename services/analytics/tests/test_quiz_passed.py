"""The last stage of document reach: documents.quiz.passed.v1 applied by the DOCUMENTS
consumer (once per member and version, the earliest pass kept, in any order with the reads),
and the reach report's passed and passed_ratio columns, in JSON and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sotay_contracts.events import documents as dev

from .conftest import AnalyticsApp, Scenario, at, month_scenario


def _passed(world: AnalyticsApp, doc: Any, pub: Any, who: str, when: str) -> dev.QuizPassed:
    w = world.world
    cell = w.cell_of[who]
    return dev.QuizPassed(
        document_id=doc,
        version=1,
        publication_id=pub,
        member_id=w.members[who],
        cell_id=w.orgs[cell],
        org_path=w.paths[cell],
        occurred_at=at(when),
    )


@pytest.fixture
async def world(svc: AnalyticsApp) -> AnalyticsApp:
    scenario = month_scenario(svc.world)
    svc.scenario = scenario  # type: ignore[attr-defined]
    await svc.feed(*scenario.events)
    return svc


async def test_passes_are_the_last_stage_of_document_reach(world: AnalyticsApp) -> None:
    w = world.world
    s: Scenario = world.scenario  # type: ignore[attr-defined]
    before = await world.report("document-reach", "b4")
    assert before["total"]["passed"] == 0 and before["total"]["passed_ratio"] == 0
    # a1 (studied) and b1 (opened) pass P1's quiz. Documents fires one pass per member; a
    # second one for a1 (a replay) must not move the first.
    await world.feed(
        _passed(world, s.doc1, s.p1, "a1", "2026-11-10T03:00:00+00:00"),
        _passed(world, s.doc1, s.p1, "b1", "2026-11-10T04:00:00+00:00"),
        _passed(world, s.doc1, s.p1, "a1", "2026-11-12T03:00:00+00:00"),
    )
    passed_at = await world.pool.fetch(
        "SELECT member_id, passed_at FROM an_reads WHERE document_id = $1 "
        "AND passed_at IS NOT NULL ORDER BY passed_at",
        s.doc1,
    )
    assert [(r["member_id"], r["passed_at"]) for r in passed_at] == [
        (w.members["a1"], at("2026-11-10T03:00:00+00:00")),
        (w.members["b1"], at("2026-11-10T04:00:00+00:00")),
    ]

    r = await world.report("document-reach", "b4")
    [commune] = r["rows"]
    # The funnel for the commune: sent 10 → opened 4 → studied 2 → passed 2.
    assert (commune["audience"], commune["opened"], commune["studied"]) == (10, 4, 2)
    assert (commune["passed"], commune["passed_ratio"]) == (2, 0.2)
    r = await world.report("document-reach", "b4", org_id=str(w.orgs["commune"]))
    rows = {row["org_path"]: row for row in r["rows"]}
    assert (rows["1.2.3.4"]["passed"], rows["1.2.3.5"]["passed"]) == (1, 1)
    r = await world.report("document-reach", "b4", org_id=str(w.orgs["cell_a"]))
    members = {row["member_id"]: row for row in r["rows"]}
    assert members[str(w.members["a1"])]["passed"] == 1
    assert members[str(w.members["a2"])]["passed"] == 0

    resp = await world.client.get(
        "/api/v1/reports/document-reach", params={"format": "csv"}, headers=world.auth("b4")
    )
    assert resp.status_code == 200
    lines = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    total = dict(zip(lines[0], lines[-1], strict=True))
    assert total["Đã đạt bài kiểm tra"] == "2"
    assert total["Tỷ lệ đạt bài kiểm tra"] == "0.2"


async def test_a_pass_before_its_read_opens_the_row(svc: AnalyticsApp) -> None:
    """The reads and the passes are separate batches: a pass may be applied first."""
    s = month_scenario(svc.world)
    await svc.feed(*s.events)
    await svc.feed(_passed(svc, s.doc1, s.p1, "a4", "2026-11-20T00:00:00+00:00"))
    row = await svc.pool.fetchrow(
        "SELECT first_opened_at, progress, passed_at FROM an_reads WHERE member_id = $1",
        svc.world.members["a4"],
    )
    assert row is not None
    assert row["passed_at"] == row["first_opened_at"] == at("2026-11-20T00:00:00+00:00")
    read = dev.DocumentRead(
        document_id=s.doc1,
        version=1,
        publication_id=s.p1,
        member_id=svc.world.members["a4"],
        cell_id=svc.world.orgs["cell_a"],
        org_path="1.2.3.4",
        state=dev.ReadState.STUDIED,
        progress_percent=100,
        occurred_at=at("2026-11-19T00:00:00+00:00"),
    )
    await svc.feed(read)
    row = await svc.pool.fetchrow(
        "SELECT first_opened_at, progress, studied_at, passed_at FROM an_reads "
        "WHERE member_id = $1",
        svc.world.members["a4"],
    )
    assert row is not None
    assert row["first_opened_at"] == at("2026-11-19T00:00:00+00:00")
    assert (row["progress"], row["passed_at"]) == (100, at("2026-11-20T00:00:00+00:00"))
