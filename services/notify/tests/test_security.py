"""Bad input and security: push endpoints cannot reach internal addresses (SSRF), each
member manages only their own devices and preferences (a secretary those of their cell), and
the SSE stream needs a valid token and carries only the caller's notifications."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from .conftest import Browser, NotifyApp, serve
from .test_inbox import scheduled


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://push.example.com/x",  # not https
        "https://127.0.0.1/push",  # loopback
        "https://localhost/push",  # resolves to loopback
        "https://10.1.2.3/push",  # private
        "https://192.168.0.10/push",
        "https://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
        "https://[::1]/push",
        "https://[::ffff:127.0.0.1]/push",
        "https://0.0.0.0/push",
        "https://user:pw@8.8.8.8/push",  # credentials in the URL
        "https://no-such-host.invalid/push",  # does not resolve
        "ftp://8.8.8.8/push",
        "https://8.8.8.8:99999/push",
        "https://[::ffff:10.0.0.1]/push",  # IPv4-mapped private
        "https://[::ffff:a9fe:a9fe]/push",  # IPv4-mapped metadata
        "https://[64:ff9b::a9fe:a9fe]/push",  # NAT64 well-known prefix
        "https://[64:ff9b::808:808]/push",  # NAT64, even of a public IPv4
        "https://[64:ff9b:1::a00:1]/push",  # NAT64 local-use prefix
        "https://[2002:a9fe:a9fe::1]/push",  # 6to4
        "https://[2002:808:808::1]/push",  # 6to4, even of a public IPv4
        "https://[::7f00:1]/push",  # IPv4-compatible loopback
        "https://[::808:808]/push",  # IPv4-compatible
        "https://8.8.8.8/push\x00x",  # NUL in the endpoint
    ],
)
async def test_push_endpoint_must_be_public_https(svc: NotifyApp, endpoint: str) -> None:
    r = await svc.client.post(
        "/api/v1/push-subscriptions",
        json=Browser.new(endpoint).subscription(),
        headers=svc.auth("a1"),
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert await svc.pool.fetchval("SELECT count(*) FROM push_subscriptions") == 0


async def test_push_subscriptions_are_per_member(svc: NotifyApp) -> None:
    good = Browser.new("https://8.8.8.8/push/abc").subscription()
    r = await svc.client.post("/api/v1/push-subscriptions", json=good, headers=svc.auth("a1"))
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["endpoint_origin"] == "https://8.8.8.8"
    bad_keys = {**good, "keys": {"p256dh": "AAAA", "auth": "short"}}
    r = await svc.client.post("/api/v1/push-subscriptions", json=bad_keys, headers=svc.auth("a1"))
    assert r.status_code == 422
    r = await svc.client.delete(f"/api/v1/push-subscriptions/{sub['id']}", headers=svc.auth("a2"))
    assert r.status_code == 404
    assert (await svc.client.get("/api/v1/push-subscriptions", headers=svc.auth("a2"))).json() == []
    r = await svc.client.get("/api/v1/push-subscriptions/vapid-public-key", headers=svc.auth("a2"))
    assert r.status_code == 200 and len(r.json()["public_key"]) == 87
    r = await svc.client.delete(f"/api/v1/push-subscriptions/{sub['id']}", headers=svc.auth("a1"))
    assert r.status_code == 204
    assert (await svc.client.get("/api/v1/push-subscriptions")).status_code == 401


async def test_preferences_of_others_only_for_their_secretary(svc: NotifyApp) -> None:
    a1 = svc.world.members["a1"]
    body = {"channels": {"sms": True}, "phone": "0912345678"}
    path = f"/api/v1/notification-preferences/{a1}"
    assert (await svc.client.put(path, json=body, headers=svc.auth("a2"))).status_code == 404
    assert (await svc.client.get(path, headers=svc.auth("b1"))).status_code == 404
    other = f"/api/v1/notification-preferences/{uuid.uuid4()}"
    assert (await svc.client.get(other, headers=svc.auth("sec"))).status_code == 404
    r = await svc.client.put(path, json=body, headers=svc.auth("sec"))
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == "+84912345678" and r.json()["channels"]["sms"] is True
    mine = await svc.client.get("/api/v1/notification-preferences", headers=svc.auth("a1"))
    assert mine.json()["channels"] == {"inapp": True, "webpush": True, "email": False, "sms": True}


@pytest.mark.parametrize(
    "body",
    [
        {"channels": {"sms": True}},  # SMS without a phone
        {"channels": {"email": True}},  # email without an address
        {"email_address": "not an email"},
        {"email_address": "a\x00b@example.vn"},  # NUL: Postgres text refuses it
        {"email_address": "a\x01b@example.vn"},
        {"phone": "12"},
        {"quiet_hours": {"start": "25:00", "end": "06:00"}},
        {"quiet_hours": {"start": "22:00", "end": "22:00"}},
        {"channels": {"inapp": False}},
        {"unknown": 1},
    ],
)
async def test_bad_preferences_are_422(svc: NotifyApp, body: dict[str, object]) -> None:
    r = await svc.client.put("/api/v1/notification-preferences", json=body, headers=svc.auth("a1"))
    assert r.status_code == 422, r.text


async def _events(response: httpx.Response) -> AsyncIterator[tuple[str | None, str, str]]:
    """(id, event, data) of each SSE event; comments skipped."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if "data" in fields:
                yield fields.get("id"), fields.get("event", "message"), fields["data"]
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


async def test_sse_needs_a_token_and_carries_only_my_notifications(svc: NotifyApp) -> None:
    async with serve(svc.app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        r = await client.get("/api/v1/inbox/stream")
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        r = await client.get("/api/v1/inbox/stream", headers={"authorization": "Bearer x.y.z"})
        assert r.status_code == 401
        expired = {"authorization": f"Bearer {svc.token('a1', expires_in=-60)}"}
        assert (await client.get("/api/v1/inbox/stream", headers=expired)).status_code == 401
        bad = {**svc.auth("a1"), "last-event-id": "abc"}
        assert (await client.get("/api/v1/inbox/stream", headers=bad)).status_code == 400

        seen: list[tuple[str | None, str, str]] = []
        async with client.stream("GET", "/api/v1/inbox/stream", headers=svc.auth("a1")) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            events = _events(resp)
            _, kind, _ = await anext(events)
            assert kind == "ready"
            await svc.publish(scheduled(svc, "a2"))  # not for a1
            first = scheduled(svc, "a1", "a2")
            await svc.publish(first)
            seen.append(await asyncio.wait_for(anext(events), 10))
        event_id, kind, data = seen[0]
        assert kind == "notification"
        payload = json.loads(data)
        assert payload["cause_id"] == str(first.meeting_id) and event_id == str(payload["seq"])

        # Missed while disconnected: replayed after Last-Event-ID, in order.
        missed = [scheduled(svc, "a1"), scheduled(svc, "a1")]
        await svc.publish(*missed)
        headers = {**svc.auth("a1"), "last-event-id": str(event_id)}
        async with client.stream("GET", "/api/v1/inbox/stream", headers=headers) as resp:
            events = _events(resp)
            assert (await anext(events))[1] == "ready"
            replay = [await asyncio.wait_for(anext(events), 10) for _ in missed]
        assert [json.loads(d)["cause_id"] for _, _, d in replay] == [
            str(m.meeting_id) for m in missed
        ]
        assert [int(i or 0) for i, _, _ in replay] == [
            int(event_id or 0) + 1,
            int(event_id or 0) + 2,
        ]


@pytest.mark.parametrize(
    "keys",
    [
        {"p256dh": "\x00", "auth": "\x00"},
        {"auth": "AAAAAAAAAAAAAAAAAAAAAA\x00"},
    ],
)
async def test_push_keys_with_control_characters_are_422(
    svc: NotifyApp, keys: dict[str, str]
) -> None:
    body = Browser.new("https://8.8.8.8/push/k").subscription()
    body["keys"] = {**body["keys"], **keys}
    r = await svc.client.post("/api/v1/push-subscriptions", json=body, headers=svc.auth("a1"))
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("value", [2**63, 2**64 + 5, 10**30])
async def test_inbox_cursor_beyond_bigint_is_400(svc: NotifyApp, value: int) -> None:
    cursor = base64.urlsafe_b64encode(str(value).encode()).rstrip(b"=").decode()
    r = await svc.client.get("/api/v1/inbox", params={"cursor": cursor}, headers=svc.auth("a1"))
    assert r.status_code == 400, r.text
