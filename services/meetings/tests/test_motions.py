"""Votes in a meeting (biểu quyết): the chair opens a motion, members present vote once from
their phones, the chair adds the show of hands, closing fixes the tally; a secret ballot cannot
be linked to a voter through the API, the tables or the event."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sotay_contracts.events import meetings as mev

from .conftest import MeetingsApp, schedule


async def _post(svc: MeetingsApp, who: str, path: str, body: Any = None, expect: int = 200) -> Any:
    r = await svc.client.post(path, json=body, headers=svc.auth(who))
    assert r.status_code == expect, r.text
    return r.json()


async def _started_meeting_with_four_present(svc: MeetingsApp) -> str:
    meeting = await schedule(svc)
    mid = str(meeting["id"])
    early = await _post(svc, "sec", f"/api/v1/meetings/{mid}/motions", {"title": "Sớm"}, 409)
    assert early["type"].endswith("/meeting-not-started")
    svc.clock.set(datetime.fromisoformat("2026-12-04T19:35:00+07:00"))
    for name in ("sec", "dep", "m1", "m2"):
        await _post(
            svc,
            "sec",
            f"/api/v1/meetings/{mid}/attendance/{svc.world.members[name]}",
            {"status": "present"},
        )
    return mid


async def test_an_open_motion_counts_phones_and_hands_once_each(svc: MeetingsApp) -> None:
    mid = await _started_meeting_with_four_present(svc)
    base = f"/api/v1/meetings/{mid}/motions"
    motion = await _post(svc, "sec", base, {"title": "Thông qua nghị quyết tháng 12"}, 201)
    assert [o["label"] for o in motion["options"]] == [
        "Tán thành",
        "Không tán thành",
        "Không biểu quyết",
    ]
    votes = f"{base}/{motion['id']}/votes"

    mine = await _post(svc, "m1", votes, {"choice": 0})
    assert (mine["my_vote"], mine["voted"], mine["options"][0]["votes"]) == (0, True, 1)
    again = await _post(svc, "m1", votes, {"choice": 1}, 409)
    assert again["type"].endswith("/already-voted")
    assert (await _post(svc, "m3", votes, {"choice": 0}, 403))["detail"].startswith(
        "Chỉ đảng viên có mặt"
    )
    await _post(svc, "ex1", votes, {"choice": 0}, 403)  # exempt members do not vote
    await _post(svc, "b1", votes, {"choice": 0}, 404)  # another cell's member: no such meeting
    assert (await _post(svc, "m2", votes, {"choice": 7}, 422))["type"].endswith("/invalid-choice")
    await _post(svc, "m2", votes, {"choice": -1}, 422)
    await _post(svc, "m2", votes, {"choice": 1})

    hands = f"{base}/{motion['id']}/hands"
    r = await svc.client.put(hands, json={"counts": [3, 0, 0]}, headers=svc.auth("sec"))
    assert r.status_code == 422 and r.json()["type"].endswith("/too-many-ballots"), r.text
    r = await svc.client.put(hands, json={"counts": [1, 0, 0]}, headers=svc.auth("m1"))
    assert r.status_code == 403
    r = await svc.client.put(hands, json={"counts": [1, 0]}, headers=svc.auth("sec"))
    assert r.status_code == 422
    r = await svc.client.put(hands, json={"counts": [1, 0, 0]}, headers=svc.auth("sec"))
    assert r.status_code == 200, r.text

    closed = await _post(svc, "sec", f"{base}/{motion['id']}/close")
    assert closed["status"] == "closed" and closed["present"] == 4
    assert [o["total"] for o in closed["options"]] == [2, 1, 0]
    late = await _post(svc, "dep", votes, {"choice": 0}, 409)
    assert late["type"].endswith("/motion-closed")
    await _post(svc, "sec", f"{base}/{motion['id']}/close", expect=409)

    event = [e for _, e in await svc.outbox() if isinstance(e, mev.MotionClosed)]
    assert len(event) == 1
    assert (event[0].votes, event[0].hands, event[0].secret) == ([1, 1, 0], [1, 0, 0], False)


async def test_a_secret_ballot_cannot_be_linked_to_a_voter(svc: MeetingsApp) -> None:
    mid = await _started_meeting_with_four_present(svc)
    base = f"/api/v1/meetings/{mid}/motions"
    bad = await _post(svc, "sec", base, {"title": "X", "options": ["A", "a"]}, 422)
    assert "trùng" in json.dumps(bad, ensure_ascii=False)
    await _post(svc, "sec", base, {"title": "X", "options": ["Một"]}, 422)
    await _post(svc, "sec", base, {"title": " ", "secret": True}, 422)
    await _post(svc, "m1", base, {"title": "Không phải chủ trì"}, 403)

    body = {
        "title": "Bầu bí thư chi bộ",
        "options": ["Đồng chí Bí", "Đồng chí Phó"],
        "secret": True,
    }
    motion = await _post(svc, "sec", base, body, 201)
    votes = f"{base}/{motion['id']}/votes"
    for name, choice in (("m1", 0), ("m2", 1), ("dep", 0)):
        mine = await _post(svc, name, votes, {"choice": choice})
        assert mine["voted"] is True and mine["my_vote"] is None  # not even to the voter
        assert all(o["votes"] is None and o["total"] is None for o in mine["options"])

    listed = (await svc.client.get(base, headers=svc.auth("sec"))).json()
    assert listed[-1]["ballots_cast"] == 3 and listed[-1]["options"][0]["votes"] is None
    async with svc.pool.acquire() as conn:
        # Who voted is stored, what they chose is not; every vote touched every tally row.
        choices = await conn.fetch(
            "SELECT choice FROM motion_voters WHERE motion_id = $1", motion["id"]
        )
        assert [r["choice"] for r in choices] == [None, None, None]
        versions = await conn.fetchval(
            "SELECT count(DISTINCT xmin::text) FROM motion_tallies WHERE motion_id = $1",
            motion["id"],
        )
        assert versions == 1

    closed = await _post(svc, "sec", f"{base}/{motion['id']}/close")
    assert [o["total"] for o in closed["options"]] == [2, 1]
    event = next(e for _, e in await svc.outbox() if isinstance(e, mev.MotionClosed))
    assert (event.secret, event.votes, event.present) == (True, [2, 1], 4)
    payload = event.model_dump_json()
    for name in ("m1", "m2", "dep"):
        assert str(svc.world.members[name]) not in payload
    assert "Đồng chí" not in payload and "Bầu" not in payload  # labels and title stay here

    minutes = (
        await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth("sec"))
    ).json()
    assert "## Biểu quyết" in minutes["content"]
    assert (
        "Bầu bí thư chi bộ (bỏ phiếu kín) — Đồng chí Bí: 2; Đồng chí Phó: 1" in minutes["content"]
    )
