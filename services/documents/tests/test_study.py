"""Publishing events, reading progress, the to-study list and the who-studied report."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sotay_contracts import CloudEvent, parse_event
from sotay_contracts.events.documents import (
    DocumentDescribed,
    DocumentPublished,
    DocumentRead,
    ReadState,
)


async def _events_on_nats(env: Any, subject: str, count: int) -> list[Any]:
    """The events relayed to the DOCUMENTS stream on ``subject`` (waits for ``count``)."""
    js = env.nc.jetstream()
    deadline = time.monotonic() + 20
    while True:
        info = await js.stream_info("DOCUMENTS", subjects_filter=subject)
        if (info.state.subjects or {}).get(subject, 0) >= count:
            break
        assert time.monotonic() < deadline, f"{subject}: fewer than {count} events relayed"
        await asyncio.sleep(0.05)
    sub = await js.pull_subscribe(subject, stream="DOCUMENTS")
    msgs = await sub.fetch(count, timeout=5)
    await sub.unsubscribe()
    return [parse_event(CloudEvent.from_nats(m.headers, m.data)) for m in msgs]


async def _read_events(env: Any) -> list[dict[str, Any]]:
    rows = await env.pool.fetch(
        "SELECT body FROM outbox WHERE subject = 'documents.document.read.v1' ORDER BY seq"
    )
    return [json.loads(r["body"]) for r in rows]


async def test_publish_emits_the_audience_size_from_the_projection(
    env: Any, resolution: bytes
) -> None:
    doc = await env.upload(
        "admin", resolution, "nq.pdf", kind="rules", number="07-QC/TU", classification="internal"
    )
    deadline = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    publication = await env.publish(
        "admin", doc["id"], "district_a", "cell_b1", study_required=True, study_deadline=deadline
    )
    # district A: 5 members in cells A1a, A1b; cell B1: 2 members.
    assert publication["audience_size"] == 7
    [event] = await _events_on_nats(env, "documents.document.published.v1", 1)
    assert isinstance(event, DocumentPublished)
    assert str(event.document_id) == doc["id"]
    assert str(event.publication_id) == publication["id"]
    assert event.audience_org_paths == ["1.2", "1.6.7"]
    assert event.audience_org_ids == [env.org_ids["district_a"], env.org_ids["cell_b1"]]
    assert event.audience_size == 7
    assert event.study_required and event.study_deadline is not None
    assert event.kind.value == "regulation"  # quy chế → the contract's coarser kind
    assert event.publisher_org_id == env.org_ids["province"]
    # A public subject: the document's title and number never travel on it ...
    assert (event.title, event.number) == (None, None)
    # ... but on the internal directory subject, relayed before the publication.
    [described] = await _events_on_nats(env, "documents.directory.described.v1", 1)
    assert isinstance(described, DocumentDescribed)
    assert (described.document_id, described.version) == (event.document_id, event.version)
    assert (described.number, described.title) == ("07-QC/TU", "Văn bản thử nghiệm")
    assert (described.kind, described.classification) == (event.kind, event.classification)
    assert described.owner_org_id == env.org_ids["province"]
    js = env.nc.jetstream()
    order = [
        (await js.get_last_msg("DOCUMENTS", s)).seq
        for s in ("documents.directory.described.v1", "documents.document.published.v1")
    ]
    assert order[0] < order[1]


async def test_progress_moves_forward_and_emits_throttled_read_events(
    env: Any, resolution: bytes
) -> None:
    doc = await env.upload("admin", resolution, "nq.pdf")
    await env.publish("admin", doc["id"], "cell_a1a", study_required=True)
    url = f"/api/v1/documents/{doc['id']}/reads"
    me = env.auth("member_a1a_1")

    async def post(body: dict[str, Any], expect: int = 200) -> Any:
        response = await env.client.post(url, json=body, headers=me)
        assert response.status_code == expect, response.text
        return response.json()

    first = await post({"progress_percent": 0})
    assert first["progress_percent"] == 0 and first["studied_at"] is None
    await post({"progress_percent": 5})  # same 10-point step: no event
    await post({"progress_percent": 27})
    back = await post({"progress_percent": 12})  # backwards: kept at 27, no event
    assert back["progress_percent"] == 27
    await post({"progress_percent": 29})  # same step: no event
    await post({"progress_percent": 64})
    done = await post({"studied": True})
    assert done["progress_percent"] == 100 and done["studied_at"] is not None
    await post({"studied": True})  # already studied: no event

    for bad in (
        {"progress_percent": 101},
        {"progress_percent": -1},
        {"progress_percent": "x"},
        {"version": 0},
        {"unknown": 1},
    ):
        await post(bad, expect=422)
    await post({"version": 9}, expect=404)

    events = await _read_events(env)
    assert [(e["state"], e["progress_percent"]) for e in events] == [
        ("opened", 0),
        ("progress", 27),
        ("progress", 64),
        ("studied", 100),
    ]
    relayed = await _events_on_nats(env, "documents.document.read.v1", 4)
    assert all(isinstance(e, DocumentRead) for e in relayed)
    studied = relayed[-1]
    assert studied.state is ReadState.STUDIED
    assert studied.member_id == env.member_ids["member_a1a_1"]
    assert studied.org_path == "1.2.3.4" and studied.publication_id is not None
    # No personal data on the wire: ids, paths and facts only.
    assert set(events[0]) == {
        "document_id",
        "version",
        "publication_id",
        "member_id",
        "cell_id",
        "org_path",
        "state",
        "progress_percent",
        "occurred_at",
    }


async def test_concurrent_progress_posts_record_each_step_once(env: Any, resolution: bytes) -> None:
    """Posts of one member racing each other (two phones, a retry): one first read, the
    progress is the highest posted, and no 10-point step is reported twice."""
    doc = await env.upload("admin", resolution, "nq.pdf")
    await env.publish("admin", doc["id"], "cell_a1a")
    url = f"/api/v1/documents/{doc['id']}/reads"
    me = env.auth("member_a1a_2")
    posted = [0, 15, 15, 33, 33, 58, 58, 58, 91, 91]

    async def post(percent: int) -> None:
        response = await env.client.post(url, json={"progress_percent": percent}, headers=me)
        assert response.status_code == 200, response.text

    await asyncio.gather(*(post(p) for p in posted))
    mine = await env.client.get(f"/api/v1/documents/{doc['id']}", headers=me)
    assert mine.json()["my_read"]["progress_percent"] == 91
    events = [e for e in await _read_events(env) if e["document_id"] == doc["id"]]
    states = [e["state"] for e in events]
    assert states.count("opened") == 1
    steps = [e["progress_percent"] // 10 for e in events if e["state"] == "progress"]
    assert len(steps) == len(set(steps)), events
    assert max(e["progress_percent"] for e in events) == 91


async def test_to_study_list_and_who_studied_report(env: Any, resolution: bytes) -> None:
    doc = await env.upload("admin", resolution, "nq.pdf", title="Nghị quyết cần học")
    deadline = datetime.now(UTC) + timedelta(days=7)
    await env.publish(
        "admin", doc["id"], "district_a", study_required=True, study_deadline=deadline.isoformat()
    )
    todo = await env.client.get("/api/v1/documents/to-study", headers=env.auth("member_a1a_1"))
    assert todo.json()["next_cursor"] is None
    assert [(i["document_id"], i["overdue"]) for i in todo.json()["items"]] == [(doc["id"], False)]
    assert (
        await env.client.get("/api/v1/documents/to-study", headers=env.auth("member_b1"))
    ).json() == {"items": [], "next_cursor": None}

    url = f"/api/v1/documents/{doc['id']}/reads"
    await env.client.post(url, json={"studied": True}, headers=env.auth("member_a1a_1"))
    await env.client.post(url, json={"progress_percent": 40}, headers=env.auth("member_a1a_2"))
    todo = await env.client.get("/api/v1/documents/to-study", headers=env.auth("member_a1a_1"))
    assert todo.json()["items"] == []

    async def report(who: str, org: str, **params: Any) -> Any:
        return await env.client.get(
            url, params={"org_id": str(env.org_ids[org]), **params}, headers=env.auth(who)
        )

    cell = await report("secretary_a1a", "cell_a1a")
    assert cell.status_code == 200, cell.text
    statuses = {i["member_id"]: i["status"] for i in cell.json()["items"]}
    ids = env.member_ids
    assert statuses == {
        str(ids["admin"]): "not_opened",
        str(ids["secretary_a1a"]): "not_opened",
        str(ids["member_a1a_1"]): "studied",
        str(ids["member_a1a_2"]): "opened",
    }
    assert cell.json()["totals"] == {
        "members": 4,
        "not_opened": 2,
        "opened": 1,
        "studied": 1,
        "overdue": 0,
        "passed": 0,
    }
    # Outside the secretary's subtree, and for a plain member: 404.
    assert (await report("secretary_a1a", "commune_a1")).status_code == 404
    assert (await report("member_a1a_2", "cell_a1a")).status_code == 404
    # The deadline passes: who has not studied is overdue. Paged by member.
    await env.pool.execute("UPDATE publications SET study_deadline = now() - interval '1 day'")
    district = await report("admin", "district_a", limit=2)
    body = district.json()
    assert body["totals"] == {
        "members": 5,
        "not_opened": 0,
        "opened": 0,
        "studied": 1,
        "overdue": 4,
        "passed": 0,
    }
    seen = [i["member_id"] for i in body["items"]]
    while body["next_cursor"]:
        body = (await report("admin", "district_a", limit=2, cursor=body["next_cursor"])).json()
        seen += [i["member_id"] for i in body["items"]]
    assert sorted(seen) == sorted(
        str(ids[n]) for n in ids if n not in ("secretary_b1", "member_b1")
    )
    overdue = await report("admin", "district_a", status="overdue")
    assert len(overdue.json()["items"]) == 4
    todo = await env.client.get("/api/v1/documents/to-study", headers=env.auth("member_a1b"))
    assert [i["overdue"] for i in todo.json()["items"]] == [True]


async def test_to_study_is_a_page_nearest_deadline_first(env: Any, resolution: bytes) -> None:
    """Like every list: ``{items, next_cursor}``, paged with ``limit``/``cursor``; nearest
    deadline first, documents without a deadline last, nothing twice, nothing studied."""
    now = datetime.now(UTC)
    expected = []
    for n, days in enumerate([9, None, 2, 5, None, 2]):
        doc = await env.upload("admin", resolution, f"nq{n}.pdf", title=f"Nghị quyết số {n}")
        deadline = None if days is None else (now + timedelta(days=days)).isoformat()
        await env.publish(
            "admin", doc["id"], "district_a", study_required=True, study_deadline=deadline
        )
        expected.append((days if days is not None else 10**6, f"Nghị quyết số {n}", doc["id"]))
    studied = await env.upload("admin", resolution, "xong.pdf", title="Đã học xong")
    await env.publish("admin", studied["id"], "district_a", study_required=True)
    await env.client.post(
        f"/api/v1/documents/{studied['id']}/reads",
        json={"studied": True},
        headers=env.auth("member_a1a_1"),
    )

    seen: list[str] = []
    pages = 0
    params: dict[str, Any] = {"limit": 2}
    while True:
        r = await env.client.get(
            "/api/v1/documents/to-study", params=params, headers=env.auth("member_a1a_1")
        )
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {"items", "next_cursor"} and len(page["items"]) <= 2
        seen += [i["document_id"] for i in page["items"]]
        pages += 1
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert pages == 3
    same_day = sorted(expected)  # same deadline day: by title
    assert [doc_id for *_, doc_id in same_day] == seen

    for bad in ("không-phải-con-trỏ", "WzEsMiwzXQ"):  # not base64 JSON; [1,2,3]
        r = await env.client.get(
            "/api/v1/documents/to-study", params={"cursor": bad}, headers=env.auth("member_a1a_1")
        )
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
