"""Fixes from the security review: org moves rewrite stored paths, the unsigned minutes draft
stays with those who edit it, and hostile input is a 4xx, never a 500."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sotay_contracts.events import identity as iev

from .conftest import NOW, MeetingsApp, meeting_body, schedule

START = datetime.fromisoformat("2026-12-04T19:30:00+07:00")


async def test_an_org_move_moves_its_meetings_to_the_new_committee(svc: MeetingsApp) -> None:
    w = svc.world
    await svc.publish_identity(
        w.member("old_com", "cell_c"),
        w.member("new_com", "cell_c"),
        w.grant("old_com", "committee_member", "district"),
        w.grant("new_com", "committee_member", "district2"),
    )
    meeting = await schedule(svc, recurrence={"count": 2})
    mid = meeting["id"]
    assert (
        await svc.client.get(f"/api/v1/meetings/{mid}", headers=svc.auth("old_com"))
    ).status_code == 200

    # The commune (with cells A and B) moves from district 1.2 to district 1.6.
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

    r = await svc.client.get(f"/api/v1/meetings/{mid}", headers=svc.auth("old_com"))
    assert r.status_code == 404
    r = await svc.client.get(f"/api/v1/meetings/{mid}", headers=svc.auth("new_com"))
    assert r.status_code == 200, r.text
    assert r.json()["org_path"] == "1.6.3.4"
    svc.clock.set(START)
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/attendance/{w.members['m4']}",
        json={"status": "present"},
        headers=svc.auth("new_com"),
    )
    assert r.status_code == 200, r.text
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/attendance/{w.members['m3']}",
        json={"status": "present"},
        headers=svc.auth("old_com"),
    )
    assert r.status_code == 404
    r = await svc.client.get(
        "/api/v1/meetings",
        params={"org_id": str(w.orgs["cell_a"]), "month": "2026-12"},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 200
    assert [m["id"] for m in r.json()["items"]] == [mid]
    series = await svc.pool.fetch("SELECT org_path FROM meeting_series")
    assert [s["org_path"] for s in series] == ["1.6.3.4"]
    # Paths that merely share a prefix are left alone.
    assert await svc.pool.fetchval("SELECT count(*) FROM meetings WHERE org_path LIKE '1.2%'") == 0

    # A replayed (stale) move changes nothing.
    await svc.publish_identity(
        iev.OrgMoved(
            org_id=w.orgs["commune"],
            old_parent_id=w.orgs["district2"],
            new_parent_id=w.orgs["district"],
            old_path="1.6.3",
            new_path="1.2.3",
            revision=2,
            occurred_at=NOW,
        )
    )
    paths = await svc.pool.fetch("SELECT DISTINCT org_path FROM meetings")
    assert [p["org_path"] for p in paths] == ["1.6.3.4"]


async def _closed_meeting_with_a_private_note(svc: MeetingsApp) -> str:
    w = svc.world
    meeting = await schedule(svc, minute_taker_id=str(w.members["m1"]))
    mid = meeting["id"]
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/rsvp",
        json={"response": "absent", "reason_code": "om", "note": "Điều trị tại bệnh viện"},
        headers=svc.auth("m3"),
    )
    assert r.status_code == 200, r.text
    r = await svc.client.put(
        f"/api/v1/meetings/{mid}/roster-labels",
        json={"labels": {str(w.members["m3"]): "Hoàng Văn Ba"}},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 200, r.text
    svc.clock.set(START + timedelta(hours=2, minutes=1))
    r = await svc.client.post(f"/api/v1/meetings/{mid}/close", headers=svc.auth("sec"))
    assert r.status_code == 200, r.text
    return str(mid)


async def test_the_unsigned_draft_is_only_for_those_who_edit_it(svc: MeetingsApp) -> None:
    mid = await _closed_meeting_with_a_private_note(svc)
    for who in ("m2", "m3", "ex1"):  # invitees who neither manage nor take the minutes
        r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth(who))
        assert r.status_code == 404, who
        for fmt in ("md", "docx"):
            r = await svc.client.get(
                f"/api/v1/meetings/{mid}/minutes/download",
                params={"format": fmt},
                headers=svc.auth(who),
            )
            assert r.status_code == 404, (who, fmt)
    for who in ("sec", "dep", "m1", "com1"):  # managers, the minute-taker, committee above
        r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth(who))
        assert r.status_code == 200, who
    # Also once someone has saved an edited draft.
    r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth("m1"))
    r = await svc.client.put(
        f"/api/v1/meetings/{mid}/minutes",
        json={"content": r.json()["content"] + "\nĐã sửa."},
        headers=svc.auth("m1"),
    )
    assert r.status_code == 200
    r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth("m2"))
    assert r.status_code == 404


async def test_signed_minutes_are_the_record_without_private_notes(svc: MeetingsApp) -> None:
    mid = await _closed_meeting_with_a_private_note(svc)
    draft = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth("sec"))
    text = draft.json()["content"]
    # The reason's code is in the minutes; the member's free-text note is not.
    assert "Hoàng Văn Ba — lý do: ốm" in text
    assert "Điều trị tại bệnh viện" not in text
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/minutes/sign",
        json={"content_sha256": draft.json()["content_sha256"]},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 200, r.text
    for who in ("m2", "m3"):
        r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth(who))
        assert r.status_code == 200 and r.json()["signed"] is True
        assert r.json()["content"] == text
        r = await svc.client.get(
            f"/api/v1/meetings/{mid}/minutes/download",
            params={"format": "md"},
            headers=svc.auth(who),
        )
        assert r.status_code == 200
        assert "Điều trị tại bệnh viện" not in r.text
    # Still outside the roster: 404.
    r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth("b1"))
    assert r.status_code == 404


def _cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("cursor", ["0001-01-01T00:00:00+14:00", str(uuid.uuid4())]),
        ("cursor", ["9999-12-31T23:59:59-14:00", str(uuid.uuid4())]),
        ("cursor", ["2026-12-01T00:00:00", str(uuid.uuid4())]),
        ("cursor", [10**30, str(uuid.uuid4())]),
        ("cursor", {"a": 1, "b": 2}),
        ("title", "Họp\u0000chi bộ"),
        ("location", "Nhà\u0000văn hóa"),
        ("agenda", ["Mục\u0000một"]),
        ("label", "Nguyễn\u0000Văn"),
        ("note", "Ốm\u0000nặng"),
    ],
)
async def test_hostile_input_is_a_clean_4xx(svc: MeetingsApp, kind: str, value: Any) -> None:
    w = svc.world
    if kind == "cursor":
        for params in (
            {"scope": "mine", "cursor": _cursor(value)},
            {"org_id": str(w.orgs["cell_a"]), "month": "2026-12", "cursor": _cursor(value)},
        ):
            r = await svc.client.get("/api/v1/meetings", params=params, headers=svc.auth("sec"))
            assert r.status_code == 400, r.text
        return
    if kind in ("title", "location", "agenda"):
        r = await svc.client.post(
            "/api/v1/meetings",
            json={**meeting_body(svc), kind: value},
            headers=svc.auth("sec"),
        )
        assert r.status_code == 422, r.text
        return
    mid = (await schedule(svc))["id"]
    if kind == "label":
        r = await svc.client.put(
            f"/api/v1/meetings/{mid}/roster-labels",
            json={"labels": {str(w.members["m1"]): value}},
            headers=svc.auth("sec"),
        )
    else:
        r = await svc.client.post(
            f"/api/v1/meetings/{mid}/rsvp",
            json={"response": "absent", "reason_code": "om", "note": value},
            headers=svc.auth("m1"),
        )
    assert r.status_code == 422, r.text
