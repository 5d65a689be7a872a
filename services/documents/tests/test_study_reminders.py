"""A cell secretary reminds the members who have not studied a required publication: once a
day, only inside the publication's audience and the secretary's cell, audited, and as an event
that names no member."""

from __future__ import annotations

import json
from typing import Any


async def _outbox(env: Any) -> list[dict[str, Any]]:
    rows = await env.pool.fetch(
        "SELECT body FROM outbox WHERE subject = 'documents.study.reminder_requested.v1' "
        "ORDER BY seq"
    )
    return [json.loads(r["body"]) for r in rows]


async def test_secretary_reminds_those_who_have_not_studied_once_a_day(
    env: Any, resolution: bytes
) -> None:
    doc = await env.upload("admin", resolution, "nq.pdf", number="09-NQ/TU")
    pub = await env.publish("admin", doc["id"], "commune_a1", "cell_b1", study_required=True)
    r = await env.client.post(
        f"/api/v1/documents/{doc['id']}/reads",
        json={"studied": True},
        headers=env.auth("member_a1a_1"),
    )
    assert r.status_code == 200, r.text
    url = f"/api/v1/documents/{doc['id']}/publications/{pub['id']}/remind"
    cell = {"org_id": str(env.org_ids["cell_a1a"])}

    r = await env.client.post(url, json=cell, headers=env.auth("secretary_a1a"))
    assert r.status_code == 200, r.text
    first = r.json()
    # Cell A1a: admin, secretary, two members; one has studied.
    assert (first["pending"], first["already_sent_today"]) == (3, False)
    [event] = await _outbox(env)
    assert event["publication_id"] == pub["id"] and event["org_path"] == "1.2.3.4"
    assert event["requested_by"] == str(env.member_ids["secretary_a1a"])
    # No member named but the requester, no title or number.
    text = json.dumps(event)
    for name in ("member_a1a_1", "member_a1a_2", "admin"):
        assert str(env.member_ids[name]) not in text
    assert "09-NQ/TU" not in text and "Văn bản thử nghiệm" not in text
    audited = await env.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'documents.study_reminder_requested'"
    )
    assert audited == 1

    # Again the same day: nothing more is sent.
    r = await env.client.post(url, json=cell, headers=env.auth("secretary_a1a"))
    assert r.status_code == 200, r.text
    assert r.json()["already_sent_today"] is True and r.json()["pending"] == 3
    assert len(await _outbox(env)) == 1


async def test_reminders_stay_inside_the_secretarys_cell_and_the_audience(
    env: Any, resolution: bytes
) -> None:
    doc = await env.upload("admin", resolution, "nq.pdf")
    required = await env.publish("admin", doc["id"], "cell_a1a", study_required=True)
    optional = await env.publish("admin", doc["id"], "cell_b1", study_required=False)
    base = f"/api/v1/documents/{doc['id']}/publications"

    async def remind(pub: str, org: str, who: str) -> Any:
        return await env.client.post(
            f"{base}/{pub}/remind", json={"org_id": str(env.org_ids[org])}, headers=env.auth(who)
        )

    # A member, or the secretary of another cell: not found, nothing recorded.
    for who, org in (("member_a1a_2", "cell_a1a"), ("secretary_b1", "cell_a1a")):
        r = await remind(required["id"], org, who)
        assert r.status_code == 404, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    # An org the publication does not reach; a publication not to study.
    r = await remind(required["id"], "cell_b1", "secretary_b1")
    assert r.status_code == 404, r.text
    r = await remind(optional["id"], "cell_b1", "secretary_b1")
    assert r.status_code == 422, r.text
    # Bad input.
    for body in ({}, {"org_id": "x"}, {"org_id": str(env.org_ids["cell_a1a"]), "more": 1}):
        r = await env.client.post(
            f"{base}/{required['id']}/remind", json=body, headers=env.auth("secretary_a1a")
        )
        assert r.status_code == 422, r.text
    assert await _outbox(env) == []
    assert await env.pool.fetchval("SELECT count(*) FROM study_reminders") == 0
