"""The attendance history of a cell's members, as the secretary's roster shows it."""

from __future__ import annotations

from datetime import datetime

from .conftest import MeetingsApp, schedule


async def _close(svc: MeetingsApp, starts: str, ends: str, marks: dict[str, str]) -> str:
    meeting = await schedule(svc, starts_at=starts, ends_at=ends)
    mid = meeting["id"]
    svc.clock.set(datetime.fromisoformat(starts))
    for name, status in marks.items():
        r = await svc.client.post(
            f"/api/v1/meetings/{mid}/attendance/{svc.world.members[name]}",
            json={"status": status},
            headers=svc.auth("sec"),
        )
        assert r.status_code == 200, r.text
    svc.clock.set(datetime.fromisoformat(ends))
    r = await svc.client.post(f"/api/v1/meetings/{mid}/close", headers=svc.auth("sec"))
    assert r.status_code == 200, r.text
    return str(mid)


async def test_each_member_of_the_cell_with_their_attendance_over_closed_meetings(
    svc: MeetingsApp,
) -> None:
    w = svc.world
    await _close(
        svc,
        "2026-12-04T19:30:00+07:00",
        "2026-12-04T21:30:00+07:00",
        {"sec": "present", "m1": "late", "m2": "absent_excused"},
    )
    await _close(
        svc,
        "2027-01-04T19:30:00+07:00",
        "2027-01-04T21:30:00+07:00",
        {"sec": "present", "m1": "present"},
    )
    # A meeting still open counts for nobody.
    await schedule(svc, starts_at="2027-02-04T19:30:00+07:00", ends_at="2027-02-04T21:30:00+07:00")

    r = await svc.client.get(
        "/api/v1/meetings/attendance-history",
        params={"org_id": str(w.orgs["cell_a"]), "months": 3},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["meetings"] == 2 and body["since"] == "2026-11-01"
    rows = {i["member_id"]: i for i in body["items"]}
    assert set(rows) == {str(w.members[n]) for n in ("sec", "dep", "m1", "m2", "m3", "m4", "ex1")}
    m1 = rows[str(w.members["m1"])]
    assert (m1["meetings"], m1["present"], m1["late"], m1["recent"]) == (
        2,
        1,
        1,
        ["present", "late"],
    )
    m2 = rows[str(w.members["m2"])]
    assert (m2["absent_excused"], m2["absent_unexcused"], m2["recent"]) == (
        1,
        1,
        ["absent_unexcused", "absent_excused"],
    )
    assert rows[str(w.members["ex1"])]["exempt"] == 2

    # One month back (January only): the December meeting falls out.
    r = await svc.client.get(
        "/api/v1/meetings/attendance-history",
        params={"org_id": str(w.orgs["cell_a"]), "months": 1},
        headers=svc.auth("sec"),
    )
    assert r.json()["meetings"] == 1
    assert {i["member_id"]: i["meetings"] for i in r.json()["items"]}[str(w.members["m1"])] == 1

    # Pages: two at a time, every member once.
    seen: list[str] = []
    cursor = None
    while True:
        params = {"org_id": str(w.orgs["cell_a"]), "limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = await svc.client.get(
            "/api/v1/meetings/attendance-history", params=params, headers=svc.auth("sec")
        )
        assert r.status_code == 200, r.text
        seen += [i["member_id"] for i in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(rows) and len(seen) == len(set(seen))


async def test_attendance_history_is_for_those_who_manage_the_cell(svc: MeetingsApp) -> None:
    w = svc.world
    url = "/api/v1/meetings/attendance-history"
    cell_a = str(w.orgs["cell_a"])
    # A member of the cell, and the secretary of the neighbouring cell: not found.
    for who in ("m1", "sec_b"):
        r = await svc.client.get(url, params={"org_id": cell_a}, headers=svc.auth(who))
        assert r.status_code == 404, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    # The commune's committee member sees the cell below; the commune itself is no cell.
    r = await svc.client.get(url, params={"org_id": cell_a}, headers=svc.auth("com1"))
    assert r.status_code == 200, r.text
    r = await svc.client.get(
        url, params={"org_id": str(w.orgs["commune"])}, headers=svc.auth("com1")
    )
    assert r.status_code == 422, r.text
    for bad in (
        {"org_id": "x"},
        {"org_id": cell_a, "months": 0},
        {"org_id": cell_a, "cursor": "!"},
    ):
        r = await svc.client.get(url, params=bad, headers=svc.auth("sec"))
        assert r.status_code in (400, 422), (bad, r.text)
