"""Fixtures for meetings' tests: the app on a fresh migrated database, its identity projection
seeded by real identity events through the real projection consumer, tokens it trusts, and a
clock the tests drive."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio
from nats.aio.client import Client as NATS
from sotay_contracts import Event
from sotay_devstack.testing import Infra
from sotay_kit import messaging
from sotay_kit.testing.databases import DatabaseFactory
from sotay_kit.testing.harness import TestClock, WorldHarness, run_service, test_settings
from sotay_kit.testing.world import World
from sotay_meetings.app import SPEC, create_app
from sotay_meetings.meetings.consumers import BINDINGS
from sotay_meetings.settings import MeetingsSettings

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội, three days before the meeting


@dataclass(kw_only=True)
class MeetingsApp(WorldHarness[MeetingsSettings]):
    clock: TestClock

    async def publish_identity(self, *events: Event) -> None:
        """Publish identity events to the IDENTITY stream and apply them through the
        projection consumer, waiting (bounded) until it has caught up."""
        await self.publish(*events)
        binding = BINDINGS[0]
        await messaging.provision(self.nc.jetstream(), [], [binding.spec])
        assert (await self.catch_up(binding)).dead_lettered == 0


NOW = datetime(2026, 11, 1, tzinfo=UTC)


def build_world() -> tuple[World, list[Event]]:
    w = World(at=NOW)
    events: list[Event] = [
        w.org("province", None, "1", "province"),
        w.org("district", "province", "1.2", "district"),
        w.org("commune", "district", "1.2.3", "grassroots_committee"),
        w.org("cell_a", "commune", "1.2.3.4", "cell"),
        w.org("cell_b", "commune", "1.2.3.5", "cell"),
        w.org("district2", "province", "1.6", "district"),
        w.org("cell_c", "district2", "1.6.7", "grassroots_cell"),
    ]
    for name in ("sec", "dep", "m1", "m2", "m3", "m4"):
        events.append(w.member(name, "cell_a"))
    events.append(w.member("ex1", "cell_a", "exempt"))
    events.append(w.member("b1", "cell_b"))
    events.append(w.member("sec_b", "cell_b"))
    events.append(w.member("com1", "cell_b"))
    events.append(w.member("c1", "cell_c"))
    events += [
        w.grant("sec", "cell_secretary", "cell_a"),
        w.grant("dep", "cell_deputy", "cell_a"),
        w.grant("sec_b", "cell_secretary", "cell_b"),
        w.grant("com1", "committee_member", "commune"),
    ]
    return w, events


@pytest_asyncio.fixture
async def svc(
    infra: Infra, make_database: DatabaseFactory, nats_operator: NATS
) -> AsyncIterator[MeetingsApp]:
    settings = test_settings(
        MeetingsSettings,
        "meetings",
        database_url=await make_database("meetings", SPEC.versions_dir),
        nats_url=infra.nats.url,
        nats_password=infra.nats_passwords["meetings"],
        run_consumers=False,
    )
    world, events = build_world()
    clock = TestClock(T0)
    async with run_service(
        create_app(settings), settings, base_url="http://meetings", clock=clock
    ) as h:
        service = MeetingsApp(**{**h.fields(), "clock": clock}, world=world, nc=nats_operator)
        await service.publish_identity(*events)
        yield service


def meeting_body(svc: MeetingsApp, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "org_id": str(svc.world.orgs["cell_a"]),
        "kind": "regular",
        "title": "Sinh hoạt chi bộ tháng 12",
        "starts_at": "2026-12-04T19:30:00+07:00",
        "ends_at": "2026-12-04T21:30:00+07:00",
        "location": "Nhà văn hóa thôn Đông",
        "agenda": ["Đánh giá công tác tháng 11", "Triển khai nghị quyết"],
        "document_ids": [str(uuid.uuid4())],
    }
    body.update(overrides)
    return body


async def schedule(svc: MeetingsApp, who: str = "sec", **overrides: Any) -> dict[str, Any]:
    response = await svc.client.post(
        "/api/v1/meetings", json=meeting_body(svc, **overrides), headers=svc.auth(who)
    )
    assert response.status_code == 201, response.text
    meeting: dict[str, Any] = response.json()["meetings"][0]
    return meeting
