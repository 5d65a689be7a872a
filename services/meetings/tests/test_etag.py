"""The run screen's polls: ``GET /api/v1/meetings/{id}`` answers ``304`` with no body while
nothing the caller sees has changed, and a new ``ETag`` after a check-in, a mark or a reply;
the access check comes first (a tag never tells an outsider the meeting exists)."""

from __future__ import annotations

from datetime import datetime

from httpx import Response

from .conftest import MeetingsApp, schedule


async def _poll(svc: MeetingsApp, mid: str, who: str, tag: str | None = None) -> Response:
    headers = svc.auth(who)
    if tag is not None:
        headers["If-None-Match"] = tag
    return await svc.client.get(f"/api/v1/meetings/{mid}", headers=headers)


async def _fresh(svc: MeetingsApp, mid: str, tag: str) -> str:
    """The tag moved: the old one gets a full 200 with the new tag, which then gets 304."""
    r = await _poll(svc, mid, "sec", tag)
    assert r.status_code == 200, r.text
    new = r.headers["etag"]
    assert new != tag
    again = await _poll(svc, mid, "sec", new)
    assert again.status_code == 304 and again.content == b""
    return new


async def test_the_live_list_is_answered_304_until_someone_checks_in_or_is_marked(
    svc: MeetingsApp,
) -> None:
    w = svc.world
    mid = str((await schedule(svc))["id"])
    r = await _poll(svc, mid, "sec")
    assert r.status_code == 200
    tag = r.headers["etag"]
    assert tag.startswith('W/"') and r.headers["cache-control"] == "no-store"
    # Unchanged: 304, no body, the same tag; a list of tags and a gzip-suffixed tag match too.
    r = await _poll(svc, mid, "sec", tag)
    assert (r.status_code, r.content, r.headers["etag"]) == (304, b"", tag)
    opaque = tag[3:-1]
    for sent in (f'"x", {tag}', f'"{opaque}-gzip"', "*"):
        assert (await _poll(svc, mid, "sec", sent)).status_code == 304, sent
    # Another caller's answer differs (a member sees only their part): its own tag.
    member = await _poll(svc, mid, "m2", tag)
    assert member.status_code == 200 and member.headers["etag"] != tag

    # A reply before the start moves the tag.
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/rsvp", json={"response": "attending"}, headers=svc.auth("m1")
    )
    assert r.status_code == 200, r.text
    tag = await _fresh(svc, mid, tag)

    # A check-in with the code moves it.
    svc.clock.set(datetime.fromisoformat("2026-12-04T19:25:00+07:00"))
    code = await svc.client.get(f"/api/v1/meetings/{mid}/checkin-code", headers=svc.auth("sec"))
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/checkin",
        json={"code": code.json()["code"]},
        headers=svc.auth("m1"),
    )
    assert r.status_code == 200, r.text
    tag = await _fresh(svc, mid, tag)
    r = await _poll(svc, mid, "sec")
    m1 = next(i for i in r.json()["roster"] if i["member_id"] == str(w.members["m1"]))
    assert m1["attendance"] == "present"

    # The secretary's mark moves it.
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/attendance/{w.members['m4']}",
        json={"status": "absent_excused", "reason_code": "om"},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 200, r.text
    tag = await _fresh(svc, mid, tag)

    # Closing moves it (tallies and quorum appear).
    svc.clock.set(datetime.fromisoformat("2026-12-04T21:35:00+07:00"))
    r = await svc.client.post(f"/api/v1/meetings/{mid}/close", headers=svc.auth("sec"))
    assert r.status_code == 200, r.text
    await _fresh(svc, mid, tag)


async def test_the_tag_does_not_skip_the_access_check(svc: MeetingsApp) -> None:
    mid = str((await schedule(svc))["id"])
    tag = (await _poll(svc, mid, "sec")).headers["etag"]
    # Without a token: 401, whatever the tag; outside the roster and the subtree: 404.
    r = await svc.client.get(f"/api/v1/meetings/{mid}", headers={"If-None-Match": tag})
    assert r.status_code == 401
    for who in ("b1", "c1"):
        for sent in (tag, "*"):
            r = await _poll(svc, mid, who, sent)
            assert r.status_code == 404 and "etag" not in r.headers, (who, sent)
    r = await _poll(svc, "00000000-0000-4000-8000-000000000000", "sec", "*")
    assert r.status_code == 404
