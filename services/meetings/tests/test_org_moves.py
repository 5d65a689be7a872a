"""An org that moves with its subtree takes its meetings along: they answer to the new committee."""

from __future__ import annotations

from datetime import datetime

from sotay_contracts.events import identity as iev

from .conftest import NOW, MeetingsApp, schedule

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
