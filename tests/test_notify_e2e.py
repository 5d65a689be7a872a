"""Notify through the gateway with the demo province (issue 6's acceptance path): scheduling
a meeting puts a notification in every invitee's inbox within seconds and on an open SSE
stream; cancelling notifies again; a document published to a district reaches each member
there once, even when its event is delivered twice."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sotay_kit import messaging
from sotay_kit.topology import PUBLIC_STREAM

from .conftest import Platform, make_pdf, publish_pdf

pytestmark = pytest.mark.e2e
PUBLISHED = "documents.document.published.v1"


async def _until(check: Callable[[], Awaitable[Any]], what: str, limit: float = 20) -> Any:
    deadline = time.monotonic() + limit
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not within {limit:.0f}s"
        await asyncio.sleep(0.1)


async def _sse(response: httpx.Response) -> AsyncIterator[tuple[str | None, str, str]]:
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if "data" in fields:
                yield fields.get("id"), fields.get("event", "message"), fields["data"]
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


async def _db(platform: Platform, service: str) -> asyncpg.Connection:
    return await asyncpg.connect(platform.description["services"][service]["dsn"])


async def test_meeting_scheduled_and_cancelled_reach_inboxes_and_the_stream(
    platform: Platform,
) -> None:
    cell_id = platform.credentials["orgs"]["cell_id"]
    secretary = await platform.auth("secretary")
    member = await platform.auth("member")
    starts = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    async with platform.client() as client, platform.client() as streamer:
        r = await client.get("/api/v1/inbox", headers=member)
        assert r.status_code == 200, r.text
        assert (await client.get("/api/v1/inbox/stream")).status_code == 401

        async with streamer.stream("GET", "/api/v1/inbox/stream", headers=member) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = _sse(stream)
            _, kind, ready = await asyncio.wait_for(anext(events), 10)
            assert kind == "ready"

            scheduled_at = time.monotonic()
            r = await client.post(
                "/api/v1/meetings",
                json={
                    "org_id": cell_id,
                    "kind": "regular",
                    "title": "Sinh hoạt chi bộ thường kỳ (kiểm thử)",
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(hours=2)).isoformat(),
                    "location": "Nhà văn hóa",
                },
                headers=secretary,
            )
            assert r.status_code == 201, r.text
            meeting_id = r.json()["meetings"][0]["id"]

            while True:  # the notification arrives on the open stream
                event_id, kind, data = await asyncio.wait_for(anext(events), 20)
                if kind == "notification" and json.loads(data)["cause_id"] == meeting_id:
                    break
            assert time.monotonic() - scheduled_at < 20
            payload = json.loads(data)
            assert payload["cause_type"] == "meeting_scheduled"
            assert payload["link"] == f"/meetings/{meeting_id}"
            assert event_id == str(payload["seq"]) and payload["seq"] > json.loads(ready)["seq"]

        # Every invitee has it, once.
        meetings_db, notify_db = await _db(platform, "meetings"), await _db(platform, "notify")
        try:
            invited = await meetings_db.fetchval(
                "SELECT count(*) FROM meeting_invitees WHERE meeting_id = $1", uuid.UUID(meeting_id)
            )
            assert invited >= 2
            counts = await notify_db.fetchrow(
                "SELECT count(*) AS n, count(DISTINCT member_id) AS members FROM notifications "
                "WHERE cause_id = $1 AND cause_type = 'meeting_scheduled'",
                uuid.UUID(meeting_id),
            )
            assert counts["n"] == counts["members"] == invited
        finally:
            await meetings_db.close()

        r = await client.post(
            f"/api/v1/meetings/{meeting_id}/cancel",
            json={"reason_code": "force_majeure"},
            headers=secretary,
        )
        assert r.status_code == 200, r.text

        async def cancelled() -> Any:
            r = await client.get("/api/v1/inbox", headers=member)
            items = [i for i in r.json()["items"] if i["cause_id"] == meeting_id]
            return items if len(items) == 2 else None

        items = await _until(cancelled, "cancellation in the inbox")
        assert [i["cause_type"] for i in items] == ["meeting_cancelled", "meeting_scheduled"]
        try:
            n = await notify_db.fetchval(
                "SELECT count(*) FROM notifications WHERE cause_id = $1 "
                "AND cause_type = 'meeting_cancelled'",
                uuid.UUID(meeting_id),
            )
            assert n == invited
        finally:
            await notify_db.close()

        # Marking read: my own, yes; the secretary cannot mark mine.
        mine = items[0]["id"]
        r = await client.post(f"/api/v1/inbox/{mine}/read", headers=secretary)
        assert r.status_code == 404
        r = await client.post(f"/api/v1/inbox/{mine}/read", headers=member)
        assert r.status_code == 200 and r.json()["read_at"]


async def test_document_published_to_a_district_reaches_each_member_once(
    platform: Platform,
) -> None:
    district_id = platform.credentials["orgs"]["district_id"]
    admin = await platform.auth("admin")
    member = await platform.auth("member")
    async with platform.client() as client:
        document_id, publication = await publish_pdf(
            client, admin, "Nghị quyết thử nghiệm thông báo", district_id, study_required=True
        )

        async def arrived() -> Any:
            r = await client.get("/api/v1/inbox", headers=member)
            return [i for i in r.json()["items"] if i["cause_id"] == publication["id"]]

        [item] = await _until(arrived, "publication in the member's inbox")
        assert item["link"] == f"/documents/{document_id}"

    # Deliver the same event a second time (a new NATS message, same event id).
    nc = await messaging.connect(platform.nats_url, name="e2e-notify")
    notify_db = await _db(platform, "notify")
    try:
        js = nc.jetstream()
        msg = await js.get_last_msg("DOCUMENTS", "documents.document.published.v1")
        headers = dict(msg.headers or {})
        headers["Nats-Msg-Id"] = f"redelivery-{uuid.uuid4()}"
        await js.publish(msg.subject, msg.data, headers=headers)

        async def settled() -> bool:
            info = await js.consumer_info("DOCUMENTS", "notify")
            return info.num_pending == 0 and info.num_ack_pending == 0

        await _until(settled, "notify consumed the redelivery")
        counts = await notify_db.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT member_id) AS members FROM notifications "
            "WHERE cause_id = $1",
            uuid.UUID(publication["id"]),
        )
        assert counts["n"] == counts["members"] == publication["audience_size"] > 1
    finally:
        await notify_db.close()
        await nc.close()


async def test_two_documents_published_together_arrive_named(platform: Platform) -> None:
    """Two resolutions published at once are two different notifications, each naming the
    document's number and title (not two identical "Văn bản mới: nghị quyết")."""
    district_id = platform.credentials["orgs"]["district_id"]
    admin = await platform.auth("admin")
    member = await platform.auth("member")
    tag = uuid.uuid4().hex[:6]
    documents = [
        (f"{tag}1-NQ/HU", "Nghị quyết về phát triển kinh tế nông thôn mới"),
        (f"{tag}2-NQ/HU", "Nghị quyết về công tác phát triển đảng viên"),
    ]
    publications: dict[str, tuple[str, str]] = {}
    async with platform.client() as client:
        for number, title in documents:
            r = await client.post(
                "/api/v1/documents",
                data={"title": title, "number": number, "kind": "resolution"},
                files={"file": ("nq.pdf", make_pdf([title]), "application/pdf")},
                headers=admin,
            )
            assert r.status_code == 201, r.text
            r = await client.post(
                f"/api/v1/documents/{r.json()['id']}/publish",
                json={"org_ids": [district_id], "study_required": True},
                headers=admin,
            )
            assert r.status_code == 201, r.text
            publications[r.json()["id"]] = (number, title)

        async def arrived() -> Any:
            r = await client.get("/api/v1/inbox", headers=member)
            items = [i for i in r.json()["items"] if i["cause_id"] in publications]
            return items if len(items) == len(publications) else None

        items = await _until(arrived, "both publications in the member's inbox")
    for item in items:
        number, title = publications[item["cause_id"]]
        assert item["title"] == f"Văn bản mới: {number} – {title}"
        assert f"số {number} “{title}”" in item["body"]
    assert len({i["title"] for i in items}) == 2

    # The names came from documents' internal directory subject: the copies of these
    # publications of internal documents that external consumers read from PUBLIC name nothing,
    # and the directory subject is not sourced there.
    nc = await messaging.connect(platform.nats_url, name="e2e-notify-public")
    try:
        js = nc.jetstream()

        async def public_copies() -> dict[str, bytes] | None:
            sub = await js.pull_subscribe(PUBLISHED, stream=PUBLIC_STREAM)
            copies: dict[str, bytes] = {}
            try:
                while True:
                    try:
                        msgs = await sub.fetch(500, timeout=1)
                    except TimeoutError:
                        break
                    for m in msgs:
                        found = json.loads(m.data)["publication_id"]
                        if found in publications:
                            copies[found] = m.data
            finally:
                await sub.unsubscribe()
            return copies if len(copies) == len(publications) else None

        copies = await _until(public_copies, "both publications on PUBLIC")
        for publication_id, data in copies.items():
            event = json.loads(data)
            assert event["classification"] == "internal"
            assert (event["title"], event["number"]) == (None, None)
            number, title = publications[publication_id]
            text = data.decode()
            assert number not in text and title not in text and json.dumps(title)[1:-1] not in text
        info = await js.stream_info(PUBLIC_STREAM, subjects_filter="documents.directory.>")
        assert not info.state.subjects
    finally:
        await nc.close()
