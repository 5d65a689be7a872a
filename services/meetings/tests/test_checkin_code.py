"""The check-in code without its server-rendered QR, for clients that draw it themselves."""

from __future__ import annotations

from datetime import datetime

from .conftest import MeetingsApp, schedule


async def test_checkin_code_without_the_svg_carries_the_same_code_and_payload(
    svc: MeetingsApp,
) -> None:
    meeting = await schedule(svc)
    svc.clock.set(datetime.fromisoformat("2026-12-04T19:20:00+07:00"))
    url = f"/api/v1/meetings/{meeting['id']}/checkin-code"
    full = await svc.client.get(url, headers=svc.auth("sec"))
    bare = await svc.client.get(url, params={"svg": "false"}, headers=svc.auth("sec"))
    assert full.status_code == bare.status_code == 200, bare.text
    assert full.json()["qr_svg"].startswith("<svg") and bare.json()["qr_svg"] is None
    assert bare.json()["code"] == full.json()["code"]
    assert bare.json()["qr_payload"] == full.json()["qr_payload"]
    assert bare.headers["cache-control"] == "no-store"
    # The code it carries checks a member in.
    r = await svc.client.post(
        f"/api/v1/meetings/{meeting['id']}/checkin",
        json={"code": bare.json()["code"]},
        headers=svc.auth("m1"),
    )
    assert r.status_code == 200, r.text
    r = await svc.client.get(url, params={"svg": "maybe"}, headers=svc.auth("sec"))
    assert r.status_code == 422, r.text
