"""Push, email and SMS against real servers on local ports: a Web Push service receiving
aes128gcm-encrypted messages, an SMTP server (aiosmtpd) and an HTTP SMS provider. Quiet hours,
retries with backoff, 410 Gone and the delivered/failed events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import http_ece
import pytest_asyncio
from nats.aio.client import Client as NATS
from py_vapid import Vapid02
from sotay_contracts.events.notify import (
    DeliveryError,
    NotificationBatchDelivered,
    NotificationDelivered,
    NotificationFailed,
)
from sotay_devstack.testing import Infra
from sotay_notify.delivery import repository as repo
from sotay_notify.delivery import service as delivery
from sotay_notify.delivery.channels import Result
from sotay_notify.delivery.service import lease_seconds
from sotay_notify.settings import NotifySettings

from .conftest import Browser, FakePush, FakeSms, NotifyApp, SmtpServer, running
from .test_inbox import scheduled

DAY = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội
NIGHT = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # 23:00 in Hà Nội


@pytest_asyncio.fixture
async def full(
    infra: Infra,
    notify_dsn: str,
    nats_operator: NATS,
    smtp: SmtpServer,
    push_service: FakePush,
    sms_provider: FakeSms,
) -> AsyncIterator[NotifyApp]:
    async with running(
        infra,
        notify_dsn,
        nats_operator,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        sms_provider_url=sms_provider.url,
        sms_api_key=sms_provider.api_key,
        push_test_allowed_origins=(push_service.url,),
        public_base_url="https://sotay.example.vn",
    ) as service:
        yield service


async def subscribe(svc: NotifyApp, name: str, browser: Browser) -> dict[str, Any]:
    r = await svc.client.post(
        "/api/v1/push-subscriptions", json=browser.subscription(), headers=svc.auth(name)
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def set_preferences(svc: NotifyApp, name: str, who: str | None = None, **body: Any) -> None:
    path = "/api/v1/notification-preferences"
    if who is not None:
        path += f"/{svc.world.members[name]}"
    r = await svc.client.put(path, json=body, headers=svc.auth(who or name))
    assert r.status_code == 200, r.text


async def events(svc: NotifyApp, kind: type[Any]) -> list[Any]:
    return [e for _, e in await svc.outbox() if isinstance(e, kind)]


async def test_web_push_arrives_encrypted_and_decrypts(
    full: NotifyApp, push_service: FakePush
) -> None:
    browser = Browser.new(f"{push_service.url}/push/a1-laptop")
    await subscribe(full, "a1", browser)
    event = scheduled(full, "a1", "a2")
    await full.publish(event)
    report = await full.tick(DAY)
    assert report.dispatched == 2 and report.attempts == 1

    [message] = push_service.received
    headers = message["headers"]
    assert headers["content-encoding"] == "aes128gcm"
    assert int(headers["ttl"]) > 0
    # RFC 8292: a VAPID JWT for the push service's origin, signed by the server's key.
    assert headers["authorization"].startswith("vapid t=")
    assert Vapid02.verify(headers["authorization"])
    assert b"Sinh ho" not in message["body"]  # encrypted, not plain text
    plain = http_ece.decrypt(
        message["body"],
        private_key=browser.private_key,
        auth_secret=browser.auth,
        version="aes128gcm",
    )
    payload = json.loads(plain)
    assert payload["title"] == "Lịch họp mới: Sinh hoạt chi bộ thường kỳ"
    assert payload["link"] == f"/meetings/{event.meeting_id}"

    delivered = await events(full, NotificationDelivered)
    assert {(e.channel.value, e.member_id) for e in delivered} == {
        ("webpush", full.world.members["a1"]),
    }
    # In-app deliveries travel as one batch for the cause, not one event per member.
    [inapp] = await events(full, NotificationBatchDelivered)
    assert inapp.channel.value == "inapp" and inapp.cause_id == event.meeting_id
    assert set(inapp.member_ids) == {full.world.members["a1"], full.world.members["a2"]}
    attempts = await full.pool.fetch("SELECT status, attempt FROM delivery_attempts")
    assert [tuple(a) for a in attempts] == [("delivered", 1)]


async def test_410_gone_removes_the_subscription(full: NotifyApp, push_service: FakePush) -> None:
    browser = Browser.new(f"{push_service.url}/push/old-phone")
    sub = await subscribe(full, "a1", browser)
    push_service.answers["old-phone"] = [410]
    await full.publish(scheduled(full, "a1"))
    await full.tick(DAY)
    assert len(push_service.received) == 1
    r = await full.client.get("/api/v1/push-subscriptions", headers=full.auth("a1"))
    assert r.json() == []
    [failed] = await events(full, NotificationFailed)
    assert failed.error_code.value == "subscription_gone" and failed.final
    r = await full.client.delete(f"/api/v1/push-subscriptions/{sub['id']}", headers=full.auth("a1"))
    assert r.status_code == 404
    await full.publish(scheduled(full, "a1"))
    await full.tick(DAY)
    assert len(push_service.received) == 1  # nothing more is sent to it


async def test_transient_failure_retries_with_backoff(
    full: NotifyApp, push_service: FakePush
) -> None:
    await subscribe(full, "a1", Browser.new(f"{push_service.url}/push/flaky"))
    push_service.answers["flaky"] = [503, 500]
    await full.publish(scheduled(full, "a1"))
    await full.tick(DAY)
    failed = await events(full, NotificationFailed)
    assert [(f.attempt, f.final, f.error_code.value) for f in failed] == [
        (1, False, "provider_error")
    ]
    assert (await full.tick(DAY + timedelta(seconds=10))).attempts == 0  # not yet
    await full.tick(DAY + timedelta(seconds=30))
    await full.tick(DAY + timedelta(minutes=5))
    assert len(push_service.received) == 3
    delivered = [
        e for e in await events(full, NotificationDelivered) if e.channel.value == "webpush"
    ]
    assert [d.attempt for d in delivered] == [3]
    rows = await full.pool.fetch(
        "SELECT attempt, status, error_code FROM delivery_attempts ORDER BY attempt"
    )
    assert [tuple(r) for r in rows] == [
        (1, "failed", "provider_error"),
        (2, "failed", "provider_error"),
        (3, "delivered", None),
    ]


async def test_quiet_hours_hold_back_push_and_sms_unless_urgent(
    full: NotifyApp, push_service: FakePush, sms_provider: FakeSms
) -> None:
    await subscribe(full, "a1", Browser.new(f"{push_service.url}/push/night"))
    await set_preferences(
        full,
        "a1",
        channels={"webpush": True, "sms": True},
        phone="0912 345 678",
        quiet_hours={"start": "22:00", "end": "06:30"},
    )
    await full.publish(scheduled(full, "a1"))
    await full.tick(NIGHT)
    assert push_service.received == [] and sms_provider.received == []
    # An urgent one (an extraordinary meeting) goes through at night.
    await full.publish(scheduled(full, "a1", kind="extraordinary"))
    await full.tick(NIGHT + timedelta(minutes=1))
    assert len(push_service.received) == 1 and len(sms_provider.received) == 1
    # The held-back ones leave when the quiet hours end (06:30 in Hà Nội = 23:30 UTC).
    await full.tick(datetime(2026, 12, 1, 23, 29, tzinfo=UTC))
    assert len(push_service.received) == 1
    await full.tick(datetime(2026, 12, 1, 23, 30, tzinfo=UTC))
    assert len(push_service.received) == 2 and len(sms_provider.received) == 2


async def test_email_arrives_at_the_smtp_server_without_secrets(
    full: NotifyApp, smtp: SmtpServer
) -> None:
    await set_preferences(
        full, "a2", channels={"email": True}, email_address="dang.vien@example.vn"
    )
    token = full.token("a2")
    event = scheduled(full, "a2")
    await full.publish(event)
    await full.tick(DAY)
    [(rcpt, message)] = smtp.messages
    assert rcpt == ["dang.vien@example.vn"]
    assert message["Subject"] == "Lịch họp mới: Sinh hoạt chi bộ thường kỳ"
    text = message.get_content()
    assert f"https://sotay.example.vn/meetings/{event.meeting_id}" in text
    assert "Vui lòng xác nhận tham dự" in text
    for secret in (token, "Bearer", "password", "token"):
        assert secret not in text
    delivered = [e for e in await events(full, NotificationDelivered) if e.channel.value == "email"]
    assert len(delivered) == 1


async def test_sms_for_a_member_without_smartphone_set_by_the_secretary(
    full: NotifyApp, sms_provider: FakeSms
) -> None:
    # a1 has no smartphone: the cell's secretary registers a phone and turns SMS on.
    await set_preferences(
        full,
        "a1",
        who="sec",
        channels={"webpush": False, "sms": True},
        phone="+84912000111",
        quiet_hours=None,
    )
    await full.publish(scheduled(full, "a1"))
    await full.tick(DAY)
    [sms] = sms_provider.received
    assert sms["to"] == "+84912000111" and sms["from"] == "SOTAY"
    assert sms["text"].startswith("Lich hop moi: Sinh hoat chi bo thuong ky.")
    assert sms_provider.api_key not in sms["text"]
    assert len(sms["text"]) <= 306
    assert sms["reference"].isdigit()  # the delivery id, nothing personal


async def test_sms_refused_for_good_is_not_retried(full: NotifyApp, sms_provider: FakeSms) -> None:
    await set_preferences(full, "a1", channels={"sms": True}, phone="0912000222", quiet_hours=None)
    sms_provider.answers = [400]
    await full.publish(scheduled(full, "a1"))
    await full.tick(DAY)
    await full.tick(DAY + timedelta(hours=5))
    [failed] = await events(full, NotificationFailed)
    assert failed.final and failed.error_code.value == "rejected"
    assert sms_provider.received == []


async def test_queued_push_does_not_follow_the_endpoint_to_its_next_owner(
    full: NotifyApp, push_service: FakePush
) -> None:
    # A shared device: a1's push is held back by quiet hours, then b1 subscribes the same
    # browser endpoint with new keys. a1's queued notification must never reach it.
    endpoint = f"{push_service.url}/push/shared-tablet"
    await subscribe(full, "a1", Browser.new(endpoint))
    await set_preferences(full, "a1", quiet_hours={"start": "22:00", "end": "06:30"})
    await full.publish(scheduled(full, "a1"))
    await full.tick(NIGHT)
    assert push_service.received == []
    await subscribe(full, "b1", Browser.new(endpoint))
    await full.tick(datetime(2026, 12, 1, 23, 30, tzinfo=UTC))  # the quiet hours are over
    assert push_service.received == []
    rows = await full.pool.fetch(
        "SELECT state, member_id FROM deliveries WHERE channel = 'webpush'"
    )
    assert [(r["state"], r["member_id"]) for r in rows] == [("cancelled", full.world.members["a1"])]
    # b1's own notifications do reach the device.
    await full.publish(scheduled(full, "b1", org_id=full.world.orgs["cell_b"]))
    await full.tick(DAY + timedelta(days=1))
    assert len(push_service.received) == 1


async def test_a_lost_lease_is_not_recorded_over_the_new_holder(
    full: NotifyApp, push_service: FakePush
) -> None:
    # Worker 1 claims a delivery but its lease runs out while it sends; worker 2 claims and
    # delivers it. Worker 1's late outcome (a failure) must not overwrite the delivered state.
    await subscribe(full, "a1", Browser.new(f"{push_service.url}/push/slow"))
    await full.publish(scheduled(full, "a1"))
    await delivery.dispatch(full.pool, full.settings, full.worker.channels, DAY)
    async with full.pool.acquire() as conn, conn.transaction():
        [stale] = await repo.claim_due(conn, DAY, 10, 1.0)
    assert (await full.tick(DAY + timedelta(seconds=5))).attempts == 1  # worker 2 delivers
    assert len(push_service.received) == 1
    late = delivery._Outcome(stale, Result(False, DeliveryError.TIMEOUT, False, "late"))
    async with full.pool.acquire() as conn, conn.transaction():
        await delivery._record(conn, late, full.settings, DAY + timedelta(seconds=6))
    row = await full.pool.fetchrow("SELECT state, last_error FROM deliveries")
    assert (row["state"], row["last_error"]) == ("delivered", None)
    attempts = await full.pool.fetch("SELECT attempt, status FROM delivery_attempts")
    assert [tuple(a) for a in attempts] == [(2, "delivered")]
    assert await events(full, NotificationFailed) == []


def test_lease_covers_a_whole_batch() -> None:
    settings = NotifySettings(
        environment="test",
        delivery_batch=200,
        email_concurrency=4,
        smtp_timeout_seconds=15,
        delivery_lease_seconds=120,
    )
    assert lease_seconds(settings) >= 200 / 4 * 15
