"""The annual review (kiểm điểm, đánh giá, xếp loại đảng viên): a committee opens the period,
members assess themselves, the cell's review meeting votes each member's grade by secret
ballot, the cell proposes, the committee above decides (quota checked both times), the grade
lands on the member's record and the cell's counts, only counts, go out as an event."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from sotay_contracts.events import identity as iev
from sotay_contracts.events import meetings as mev

from .conftest import NOW, MeetingsApp, schedule


async def _call(
    svc: MeetingsApp, method: str, who: str, path: str, body: Any = None, expect: int = 200
) -> Any:
    r = await svc.client.request(method, path, json=body, headers=svc.auth(who))
    assert r.status_code == expect, r.text
    return r.json()


async def _open_period(svc: MeetingsApp, share: float = 0.5) -> str:
    body = {
        "org_id": str(svc.world.orgs["commune"]),
        "year": 2026,
        "self_deadline": "2026-12-20T23:59:00+07:00",
        "excellent_share": share,
    }
    # A cell's secretary does not open periods; the commune's committee does.
    await _call(svc, "POST", "sec", "/api/v1/reviews", body, 404)
    period = await _call(svc, "POST", "com1", "/api/v1/reviews", body, 201)
    assert (period["year"], period["excellent_share"]) == (2026, share)
    again = await _call(svc, "POST", "com1", "/api/v1/reviews", body, 409)
    assert again["type"].endswith("/review-period-exists")
    below = {**body, "org_id": str(svc.world.orgs["cell_a"])}
    await _call(svc, "POST", "com1", "/api/v1/reviews", below, 409)  # nested in the commune's
    return str(period["id"])


async def _assess(svc: MeetingsApp, who: str, grade: str, expect: int = 200) -> Any:
    body = {
        "assessment": f"Bản tự kiểm điểm của {who}: hoàn thành nhiệm vụ được giao.",
        "grade": grade,
    }
    return await _call(
        svc, "PUT", who, f"/api/v1/reviews/{svc.period}/self-assessment", body, expect
    )


async def _grading_vote(svc: MeetingsApp, mid: str, member: str, ballots: dict[str, int]) -> None:
    cell = svc.world.orgs["cell_a"]
    motion = await _call(
        svc,
        "POST",
        "sec",
        f"/api/v1/reviews/{svc.period}/cells/{cell}/motions",
        {"meeting_id": mid, "member_id": str(svc.world.members[member])},
        201,
    )
    assert motion["secret"] is True
    assert [o["label"] for o in motion["options"]] == [
        "Hoàn thành xuất sắc nhiệm vụ",
        "Hoàn thành tốt nhiệm vụ",
        "Hoàn thành nhiệm vụ",
        "Không hoàn thành nhiệm vụ",
    ]
    base = f"/api/v1/meetings/{mid}/motions/{motion['id']}"
    for voter, choice in ballots.items():
        await _call(svc, "POST", voter, f"{base}/votes", {"choice": choice})
    await _call(svc, "POST", "sec", f"{base}/close")


async def test_a_cell_review_from_self_assessment_to_the_members_record(svc: MeetingsApp) -> None:
    svc.period = await _open_period(svc)  # type: ignore[attr-defined]
    cell = svc.world.orgs["cell_a"]
    cell_path = f"/api/v1/reviews/{svc.period}/cells/{cell}"  # type: ignore[attr-defined]

    # Members of the commune's subtree see the period; another district's do not.
    mine = await _call(svc, "GET", "b1", "/api/v1/reviews/mine")
    assert [m["period"]["year"] for m in mine] == [2026] and mine[0]["editable"] is True
    assert await _call(svc, "GET", "c1", "/api/v1/reviews/mine") == []
    await _assess(svc, "c1", "tot", 404)
    bad = await _assess(svc, "m1", "gioi", 422)
    assert bad["errors"][0]["loc"][-1] == "grade" and "danh sách" in json.dumps(
        bad, ensure_ascii=False
    )
    for who, grade in (("m1", "xuat_sac"), ("m2", "tot"), ("dep", "tot"), ("sec", "tot")):
        await _assess(svc, who, grade)

    meeting = await schedule(svc, title="Kiểm điểm, đánh giá, xếp loại đảng viên năm 2026")
    mid = str(meeting["id"])
    svc.clock.set(datetime.fromisoformat("2026-12-04T19:35:00+07:00"))
    for name in ("sec", "dep", "m1", "m2"):
        await _call(
            svc,
            "POST",
            "sec",
            f"/api/v1/meetings/{mid}/attendance/{svc.world.members[name]}",
            {"status": "present"},
        )
    # The cell's members, their self-assessments, nothing voted yet; not for another cell.
    seen = await _call(svc, "GET", "sec", cell_path)
    assert {m["self_grade"] for m in seen["members"] if m["submitted_at"]} == {"xuat_sac", "tot"}
    assert seen["can_propose"] is True and seen["can_decide"] is False
    await _call(svc, "GET", "sec_b", cell_path, expect=404)
    not_member = {"meeting_id": mid, "member_id": str(svc.world.members["b1"])}
    await _call(svc, "POST", "sec", f"{cell_path}/motions", not_member, 422)

    # More than half of the four present: m1 xuất sắc, m2 tốt; the secretary's vote splits.
    await _grading_vote(svc, mid, "m1", {"sec": 0, "dep": 0, "m2": 0, "m1": 1})
    await _grading_vote(svc, mid, "m2", {"sec": 1, "dep": 1, "m1": 1})
    await _grading_vote(svc, mid, "sec", {"dep": 0, "m1": 1, "m2": 2})
    seen = await _call(svc, "GET", "sec", cell_path)
    by_name = {m["member_id"]: m for m in seen["members"]}
    m1 = by_name[str(svc.world.members["m1"])]
    assert m1["vote_totals"] == {"xuat_sac": 3, "tot": 1, "hoan_thanh": 0, "khong_hoan_thanh": 0}
    assert m1["voted_grade"] == "xuat_sac"
    assert by_name[str(svc.world.members["sec"])]["voted_grade"] is None  # no majority

    # The cell proposes for all its active members at once (ex1, exempt, is not graded here).
    missing = await _call(svc, "POST", "sec", f"{cell_path}/proposal", expect=409)
    assert missing["type"].endswith("/not-all-voted") and "Còn 4 đảng viên" in missing["detail"]
    for member in ("dep", "m3", "m4", "sec"):
        await _grading_vote(svc, mid, member, {"sec": 2, "dep": 2, "m1": 2})
    # One xuất sắc needs two tốt at a 50 % quota: refused with the numbers, nothing proposed.
    refused = await _call(svc, "POST", "sec", f"{cell_path}/proposal", expect=422)
    assert refused["type"].endswith("/grade-quota-exceeded")
    assert "tối đa 0" in refused["detail"]
    await _grading_vote(svc, mid, "m3", {"sec": 1, "m1": 1, "m2": 1})  # voted again: tốt
    await _call(svc, "POST", "m1", f"{cell_path}/proposal", expect=404)  # not the cell's staff
    proposed = await _call(svc, "POST", "sec", f"{cell_path}/proposal")
    assert proposed["proposed"] == {"excellent": 1, "good": 2, "allowed_excellent": 1}
    again = await _call(svc, "POST", "sec", f"{cell_path}/proposal", expect=409)
    assert again["type"].endswith("/nothing-to-propose")
    late = await _assess(svc, "m1", "tot", 409)
    assert late["type"].endswith("/review-closed")

    # The commune's committee decides; the cell's secretary may not.
    await _call(svc, "POST", "sec", f"{cell_path}/decision", {"changes": []}, 403)
    m2_id = str(svc.world.members["m2"])
    m1_id = str(svc.world.members["m1"])
    breach = {"changes": [{"member_id": m2_id, "grade": "hoan_thanh", "reason": "Còn hạn chế"}]}
    refused = await _call(svc, "POST", "com1", f"{cell_path}/decision", breach, 422)
    assert refused["type"].endswith("/grade-quota-exceeded")
    same = {"changes": [{"member_id": m1_id, "grade": "xuat_sac", "reason": "Như đề nghị"}]}
    await _call(svc, "POST", "com1", f"{cell_path}/decision", same, 422)
    no_reason = {"changes": [{"member_id": m1_id, "grade": "tot", "reason": " "}]}
    await _call(svc, "POST", "com1", f"{cell_path}/decision", no_reason, 422)
    change = {
        "changes": [{"member_id": m1_id, "grade": "tot", "reason": "Chưa có thành tích nổi bật"}]
    }
    decided = await _call(svc, "POST", "com1", f"{cell_path}/decision", change)
    assert decided["final"] == {"excellent": 0, "good": 3, "allowed_excellent": 1}

    # The grade is on the member's record, seen by the member and the committee over the cell.
    grades = await _call(svc, "GET", "m1", "/api/v1/reviews/grades")
    assert [(g["year"], g["grade"], g["reason"]) for g in grades] == [
        (2026, "tot", "Chưa có thành tích nổi bật")
    ]
    assert grades[0]["grade_title"] == "Hoàn thành tốt nhiệm vụ"
    assert len(await _call(svc, "GET", "com1", f"/api/v1/reviews/grades?member_id={m1_id}")) == 1
    await _call(svc, "GET", "b1", f"/api/v1/reviews/grades?member_id={m1_id}", expect=404)
    mine = await _call(svc, "GET", "m1", "/api/v1/reviews/mine")
    assert (mine[0]["cell_grade"], mine[0]["final_grade"]) == ("xuat_sac", "tot")

    events = [e for _, e in await svc.outbox() if isinstance(e, mev.ReviewCellGraded)]
    assert len(events) == 1
    assert events[0].counts == {
        mev.ReviewGrade.EXCELLENT: 0,
        mev.ReviewGrade.GOOD: 3,
        mev.ReviewGrade.COMPLETE: 3,
        mev.ReviewGrade.INCOMPLETE: 0,
    }
    wire = events[0].model_dump_json()
    for name in ("m1", "m2", "m3", "m4", "dep", "sec"):
        assert str(svc.world.members[name]) not in wire
    assert "Chưa có thành tích" not in wire


async def test_self_assessments_close_at_the_deadline(svc: MeetingsApp) -> None:
    svc.period = await _open_period(svc)  # type: ignore[attr-defined]
    await _assess(svc, "m3", "tot")
    svc.clock.set(datetime.fromisoformat("2026-12-21T08:00:00+07:00"))
    closed = await _assess(svc, "m3", "xuat_sac", 409)
    assert "hết hạn" in closed["detail"]
    mine = await _call(svc, "GET", "m3", "/api/v1/reviews/mine")
    assert (mine[0]["self_grade"], mine[0]["editable"]) == ("tot", False)
    past = {
        "org_id": str(svc.world.orgs["cell_b"]),
        "year": 2025,
        "self_deadline": "2026-01-01T00:00:00+07:00",
    }
    await _call(svc, "POST", "com1", "/api/v1/reviews", past, 422)


async def test_two_clicks_at_once_open_one_grading_ballot(svc: MeetingsApp) -> None:
    svc.period = await _open_period(svc)  # type: ignore[attr-defined]
    meeting = await schedule(svc)
    svc.clock.set(datetime.fromisoformat("2026-12-04T19:35:00+07:00"))
    path = f"/api/v1/reviews/{svc.period}/cells/{svc.world.orgs['cell_a']}/motions"  # type: ignore[attr-defined]
    body = {"meeting_id": str(meeting["id"]), "member_id": str(svc.world.members["m4"])}
    answers = await asyncio.gather(
        *(svc.client.post(path, json=body, headers=svc.auth("sec")) for _ in range(3))
    )
    assert sorted(r.status_code for r in answers) == [201, 409, 409], [r.text for r in answers]
    motions = await _call(svc, "GET", "sec", f"/api/v1/meetings/{meeting['id']}/motions")
    assert len(motions) == 1


async def test_periods_of_one_year_on_one_line_cannot_both_open(svc: MeetingsApp) -> None:
    w = svc.world
    await svc.publish_identity(w.grant("com1", "committee_member", "cell_a"))
    bodies = [
        {"org_id": str(w.orgs[org]), "year": 2027, "self_deadline": "2026-12-20T23:59:00+07:00"}
        for org in ("commune", "cell_a")
    ]
    answers = await asyncio.gather(
        *(svc.client.post("/api/v1/reviews", json=b, headers=svc.auth("com1")) for b in bodies)
    )
    assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]


async def test_an_assessment_too_long_once_normalised_is_refused(svc: MeetingsApp) -> None:
    svc.period = await _open_period(svc)  # type: ignore[attr-defined]
    # U+0958 is 1 character as sent and 2 in NFC: 8,000 of them pass the first length check.
    body = {"assessment": "\u0958" * 8000, "grade": "tot"}
    r = await svc.client.put(
        f"/api/v1/reviews/{svc.period}/self-assessment",  # type: ignore[attr-defined]
        json=body,
        headers=svc.auth("m1"),
    )
    assert r.status_code == 422, r.text
    assert (await _call(svc, "GET", "m1", "/api/v1/reviews/mine"))[0]["submitted_at"] is None


async def test_a_moved_commune_takes_its_review_period_along(svc: MeetingsApp) -> None:
    w = svc.world
    await svc.publish_identity(w.member("new_com", "cell_c"))
    await svc.publish_identity(w.grant("new_com", "committee_member", "district2"))
    svc.period = await _open_period(svc)  # type: ignore[attr-defined]
    await _assess(svc, "m3", "tot")
    await svc.publish_identity(
        iev.OrgMoved(
            org_id=w.orgs["commune"],
            old_parent_id=w.orgs["district"],
            new_parent_id=w.orgs["district2"],
            old_path="1.2.3",
            new_path="1.6.3",
            revision=2,
            occurred_at=NOW,
        )
    )
    w.paths.update({"commune": "1.6.3", "cell_a": "1.6.3.4", "cell_b": "1.6.3.5"})
    # The members under the moved commune keep their period; the new district's committee
    # sees it and its cells.
    await _assess(svc, "m3", "hoan_thanh")
    periods = await _call(svc, "GET", "new_com", "/api/v1/reviews")
    assert [p["org_path"] for p in periods] == ["1.6.3"]
    cells = await _call(svc, "GET", "new_com", f"/api/v1/reviews/{svc.period}/cells")  # type: ignore[attr-defined]
    assert {c["cell_path"] for c in cells} == {"1.6.3.4", "1.6.3.5"}
    cell = await _call(
        svc,
        "GET",
        "new_com",
        f"/api/v1/reviews/{svc.period}/cells/{w.orgs['cell_a']}",  # type: ignore[attr-defined]
    )
    assert any(m["self_grade"] == "hoan_thanh" for m in cell["members"])


async def test_a_cell_under_two_of_ones_grants_is_listed_once(svc: MeetingsApp) -> None:
    w = svc.world
    await svc.publish_identity(w.grant("com1", "committee_member", "district"))
    body = {
        "org_id": str(w.orgs["district"]),
        "year": 2026,
        "self_deadline": "2026-12-20T23:59:00+07:00",
    }
    period = await _call(svc, "POST", "com1", "/api/v1/reviews", body, 201)
    # sec: secretary of cell A only; sec gets a committee grant on the commune as well.
    await svc.publish_identity(w.grant("sec", "committee_member", "commune"))
    cells = await _call(svc, "GET", "sec", f"/api/v1/reviews/{period['id']}/cells")
    assert sorted(c["cell_path"] for c in cells) == ["1.2.3.4", "1.2.3.5"]
