"""Fixtures for analytics' tests: the app on a fresh migrated database, real events (built from
the contract models) published to the real streams and applied by the service's own consumers,
tokens it trusts, and a fixed report clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest_asyncio
from nats.aio.client import Client as NATS
from sotay_analytics.app import SPEC, create_app
from sotay_analytics.projection.consumers import BINDINGS
from sotay_analytics.settings import AnalyticsSettings
from sotay_contracts import Event
from sotay_contracts.events import identity as iev
from sotay_devstack.testing import Infra
from sotay_kit import messaging
from sotay_kit.testing.databases import DatabaseFactory
from sotay_kit.testing.harness import TestClock, WorldHarness, run_service, test_settings
from sotay_kit.testing.world import World

REPORT_NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
T0 = datetime(2026, 9, 1, tzinfo=UTC)  # the province exists from here on


def build_world() -> tuple[World, list[Event]]:
    w = World(at=T0)
    events: list[Event] = [
        w.org("province", None, "1", "province"),
        w.org("district", "province", "1.2", "district"),
        w.org("commune", "district", "1.2.3", "grassroots_committee"),
        w.org("cell_a", "commune", "1.2.3.4", "cell"),
        w.org("cell_b", "commune", "1.2.3.5", "cell"),
        w.org("district2", "province", "1.6", "district"),
        w.org("cell_c", "district2", "1.6.7", "grassroots_cell"),
    ]
    for name in ("a1", "a2", "a3", "a4", "a5"):
        events.append(w.member(name, "cell_a"))
    events.append(w.member("a6", "cell_a", "exempt"))
    for name in ("b1", "b2", "b3", "b4"):
        events.append(w.member(name, "cell_b"))
    for name in ("c1", "c2"):
        events.append(w.member(name, "cell_c"))
    events += [
        w.grant("a1", "cell_secretary", "cell_a"),
        w.grant("b4", "committee_member", "district"),
        w.grant("c1", "org_admin", "province"),
        w.grant("c2", "committee_member", "district2"),
    ]
    return w, events


@dataclass(kw_only=True)
class AnalyticsApp(WorldHarness[AnalyticsSettings]):
    dead_lettered: int = 0
    refused_reasons: list[str] = field(default_factory=list)

    async def consume(self, **spec_changes: Any) -> int:
        """Run the service's consumers until every stream is drained; dead letters added."""
        dead = 0
        for binding in BINDINGS:
            spec = replace(binding.spec, **spec_changes)
            dead += (await self.catch_up(binding, spec=spec, within=60)).dead_lettered
        self.dead_lettered += dead
        return dead

    async def feed(self, *events: Event) -> None:
        await self.publish(*events)
        assert await self.consume() == 0

    async def report(self, name: str, who: str, **params: Any) -> dict[str, Any]:
        r = await self.client.get(f"/api/v1/reports/{name}", params=params, headers=self.auth(who))
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data


@pytest_asyncio.fixture
async def svc(
    infra: Infra, make_database: DatabaseFactory, nats_operator: NATS
) -> AsyncIterator[AnalyticsApp]:
    settings = test_settings(
        AnalyticsSettings,
        "analytics",
        database_url=await make_database("analytics", SPEC.versions_dir),
        nats_url=infra.nats.url,
        nats_password=infra.nats_passwords["analytics"],
        run_consumers=False,
        gauge_refresh_seconds=0,
    )
    world, events = build_world()
    js = nats_operator.jetstream()
    await messaging.provision(js, [], [b.spec for b in BINDINGS])
    async with run_service(
        create_app(settings), settings, base_url="http://analytics", clock=TestClock(REPORT_NOW)
    ) as harness:
        service = AnalyticsApp(**harness.fields(), world=world, nc=nats_operator)
        await service.feed(*events)
        yield service


# -- the scripted two months with known answers ----------------------------------------------

from sotay_contracts.events import documents as dev  # noqa: E402
from sotay_contracts.events import meetings as mev  # noqa: E402
from sotay_contracts.events import notify as nev  # noqa: E402


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@dataclass
class Scenario:
    p1: uuid.UUID
    p2: uuid.UUID
    p3: uuid.UUID
    doc1: uuid.UUID
    m1: uuid.UUID
    m2: uuid.UUID
    m3: uuid.UUID
    events: list[Event]


def _plan(
    model: type[mev.MeetingScheduled] | type[mev.MeetingUpdated] | type[mev.MeetingCancelled],
    w: World,
    meeting_id: uuid.UUID,
    cell: str,
    invitees: list[str],
    starts: str,
    revision: int,
    occurred: str,
    kind: str = "regular",
    **extra: Any,
) -> Event:
    start = at(starts)
    from datetime import timedelta

    return model(
        meeting_id=meeting_id,
        org_id=w.orgs[cell],
        org_path=w.paths[cell],
        kind=mev.MeetingKind(kind),
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        invitee_member_ids=[w.members[n] for n in invitees],
        revision=revision,
        occurred_at=at(occurred),
        **extra,
    )


def _att(
    w: World,
    meeting_id: uuid.UUID,
    cell: str,
    who: str,
    status: str,
    by: str,
    starts: str,
    when: str,
) -> mev.AttendanceRecorded:
    return mev.AttendanceRecorded(
        meeting_id=meeting_id,
        member_id=w.members[who],
        org_id=w.orgs[cell],
        org_path=w.paths[cell],
        meeting_kind=mev.MeetingKind.REGULAR,
        meeting_starts_at=at(starts),
        status=mev.AttendanceStatus(status),
        method=mev.AttendanceMethod.CODE if who == by else mev.AttendanceMethod.MARKED,
        recorded_by=w.members[by],
        occurred_at=at(when),
    )


def _closed(
    w: World, meeting_id: uuid.UUID, cell: str, starts: str, by: str, kind: str = "regular",
    **tallies: Any,
) -> mev.MeetingClosed:  # fmt: skip
    return mev.MeetingClosed(
        meeting_id=meeting_id,
        org_id=w.orgs[cell],
        org_path=w.paths[cell],
        kind=mev.MeetingKind(kind),
        starts_at=at(starts),
        quorum_required=0.6667,
        closed_by=w.members[by],
        occurred_at=at(starts)
        + (at("2026-01-01T03:00:00+00:00") - at("2026-01-01T00:00:00+00:00")),
        **tallies,
    )


def _read(
    w: World, doc: uuid.UUID, pub: uuid.UUID, who: str, state: str, progress: int, when: str
) -> dev.DocumentRead:
    cell = w.cell_of[who]
    return dev.DocumentRead(
        document_id=doc,
        version=1,
        publication_id=pub,
        member_id=w.members[who],
        cell_id=w.orgs[cell],
        org_path=w.paths[cell],
        state=dev.ReadState(state),
        progress_percent=progress,
        occurred_at=at(when),
    )


def _notified(
    w: World, pub: uuid.UUID, who: str, channel: str = "inapp"
) -> nev.NotificationDelivered:
    return nev.NotificationDelivered(
        notification_id=uuid.uuid4(),
        member_id=w.members[who],
        channel=nev.Channel(channel),
        cause_type=nev.NotificationCause.DOCUMENT_PUBLISHED,
        cause_id=pub,
        attempt=1,
        occurred_at=at("2026-10-05T02:01:00+00:00"),
    )


def notified_batch(w: World, pub: uuid.UUID, *who: str) -> nev.NotificationBatchDelivered:
    return nev.NotificationBatchDelivered(
        cause_type=nev.NotificationCause.DOCUMENT_PUBLISHED,
        cause_id=pub,
        member_ids=[w.members[n] for n in who],
        occurred_at=at("2026-10-05T02:01:00+00:00"),
    )


def month_scenario(w: World) -> Scenario:
    """See docs/analytics.md "known answers": every expected number in the tests follows."""
    doc1, doc2, doc3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    p1, p2, p3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    m1, m2, m3, m4 = (uuid.uuid4() for _ in range(4))
    A = ["a1", "a2", "a3", "a4", "a5", "a6"]
    B = ["b1", "b2", "b3", "b4"]
    ev: list[Event] = [
        # P1: the district publishes to its whole subtree, study required by 1 November.
        dev.DocumentPublished(
            document_id=doc1,
            version=1,
            publication_id=p1,
            audience_org_ids=[w.orgs["district"]],
            audience_org_paths=["1.2"],
            audience_size=10,
            study_required=True,
            study_deadline=at("2026-11-01T10:00:00+00:00"),
            classification=dev.Classification.INTERNAL,
            kind=dev.DocumentKind.RESOLUTION,
            published_by=w.members["b4"],
            publisher_org_id=w.orgs["district"],
            occurred_at=at("2026-10-05T02:00:00+00:00"),
        ),
        # In-app deliveries in batches (delivered_batch.v1), one from before the batch subject
        # (a per-member delivered.v1), and a second channel: six members notified.
        notified_batch(w, p1, "a1", "a2", "a3"),
        notified_batch(w, p1, "a4", "b1"),
        _notified(w, p1, "a5"),
        _notified(w, p1, "a1", "webpush"),  # two channels, one member notified
        nev.NotificationFailed(
            notification_id=uuid.uuid4(),
            member_id=w.members["b2"],
            channel=nev.Channel.WEBPUSH,
            cause_type=nev.NotificationCause.DOCUMENT_PUBLISHED,
            cause_id=p1,
            attempt=3,
            error_code=nev.DeliveryError.SUBSCRIPTION_GONE,
            final=True,
            occurred_at=at("2026-10-05T02:05:00+00:00"),
        ),
        # After the publication: a new member in A (not in P1's audience); a5 moves to C.
        w.member("a7", "cell_a", at=at("2026-10-10T00:00:00+00:00")),
        iev.MemberTransferred(
            member_id=w.members["a5"],
            from_cell_id=w.orgs["cell_a"],
            from_org_path="1.2.3.4",
            to_cell_id=w.orgs["cell_c"],
            to_org_path="1.6.7",
            effective_on=date(2026, 10, 12),
            revision=2,
            occurred_at=at("2026-10-12T00:00:00+00:00"),
        ),
        iev.AccountActivated(
            member_id=w.members["b2"],
            cell_id=w.orgs["cell_b"],
            org_path="1.2.3.5",
            occurred_at=at("2026-10-20T00:00:00+00:00"),
        ),
        # M1 (A, regular, 20 October): 1 present, 1 late, 2 excused, 1 unexcused, 1 exempt.
        _plan(mev.MeetingScheduled, w, m1, "cell_a", A, "2026-10-20T12:00:00+00:00", 1,
              "2026-10-01T00:00:00+00:00", scheduled_by=w.members["a1"]),
        mev.RsvpRecorded(
            meeting_id=m1,
            member_id=w.members["a4"],
            response=mev.RsvpResponse.ABSENT,
            reason_code=mev.AbsenceReason.PERSONAL,
            occurred_at=at("2026-10-15T00:00:00+00:00"),
        ),
        _att(w, m1, "cell_a", "a1", "present", "a1", "2026-10-20T12:00:00+00:00",
             "2026-10-20T12:01:00+00:00"),
        _att(w, m1, "cell_a", "a2", "present", "a1", "2026-10-20T12:00:00+00:00",
             "2026-10-20T12:02:00+00:00"),
        _att(w, m1, "cell_a", "a2", "late", "a2", "2026-10-20T12:00:00+00:00",
             "2026-10-20T12:20:00+00:00"),  # the last record wins
        _att(w, m1, "cell_a", "a3", "absent_excused", "a1", "2026-10-20T12:00:00+00:00",
             "2026-10-20T12:30:00+00:00"),
        _closed(w, m1, "cell_a", "2026-10-20T12:00:00+00:00", "a1", invited=6, present=1,
                late=1, absent_excused=2, absent_unexcused=1, exempt=1, quorum_met=False),
        # M2 (A, regular): planned for 30 October, moved to 3 November (not on schedule).
        _plan(mev.MeetingScheduled, w, m2, "cell_a", A, "2026-10-30T12:00:00+00:00", 1,
              "2026-10-01T00:00:00+00:00", scheduled_by=None),
        _plan(mev.MeetingUpdated, w, m2, "cell_a", A, "2026-11-03T12:00:00+00:00", 2,
              "2026-10-25T00:00:00+00:00", changed_fields=["starts_at"],
              updated_by=w.members["a1"]),
        *[
            _att(w, m2, "cell_a", n, "present", "a1", "2026-11-03T12:00:00+00:00",
                 "2026-11-03T12:05:00+00:00")
            for n in ("a1", "a2", "a3", "a4")
        ],
        _closed(w, m2, "cell_a", "2026-11-03T12:00:00+00:00", "a1", invited=6, present=4,
                late=0, absent_excused=0, absent_unexcused=1, exempt=1, quorum_met=True),
        # M3 (B, thematic, 10 November): everyone present, marked by b4.
        _plan(mev.MeetingScheduled, w, m3, "cell_b", B, "2026-11-10T12:00:00+00:00", 1,
              "2026-11-01T00:00:00+00:00", kind="thematic", scheduled_by=w.members["b4"]),
        *[
            _att(w, m3, "cell_b", n, "present", "b4", "2026-11-10T12:00:00+00:00",
                 "2026-11-10T12:05:00+00:00")
            for n in B
        ],
        _closed(w, m3, "cell_b", "2026-11-10T12:00:00+00:00", "b4", kind="thematic",
                invited=4, present=4, late=0, absent_excused=0, absent_unexcused=0, exempt=0,
                quorum_met=True),
        # M4 (A): scheduled, then cancelled: never counted.
        _plan(mev.MeetingScheduled, w, m4, "cell_a", A, "2026-11-20T12:00:00+00:00", 1,
              "2026-11-01T00:00:00+00:00", scheduled_by=w.members["a1"]),
        _plan(mev.MeetingCancelled, w, m4, "cell_a", A, "2026-11-20T12:00:00+00:00", 2,
              "2026-11-02T00:00:00+00:00", reason_code=mev.CancellationReason.OTHER,
              cancelled_by=w.members["a1"]),
        # P2: district 2 publishes to cell C (a5 is there now), no study required.
        dev.DocumentPublished(
            document_id=doc2,
            version=1,
            publication_id=p2,
            audience_org_ids=[w.orgs["cell_c"]],
            audience_org_paths=["1.6.7"],
            audience_size=3,
            study_required=False,
            classification=dev.Classification.PUBLIC,
            kind=dev.DocumentKind.NOTICE,
            published_by=w.members["c2"],
            publisher_org_id=w.orgs["district2"],
            occurred_at=at("2026-11-02T00:00:00+00:00"),
        ),
        _read(w, doc2, p2, "c1", "studied", 100, "2026-11-05T00:00:00+00:00"),
        # P3: published to B and retracted: it no longer counts.
        dev.DocumentPublished(
            document_id=doc3,
            version=1,
            publication_id=p3,
            audience_org_ids=[w.orgs["cell_b"]],
            audience_org_paths=["1.2.3.5"],
            audience_size=4,
            study_required=True,
            study_deadline=at("2026-11-02T00:00:00+00:00"),
            classification=dev.Classification.INTERNAL,
            kind=dev.DocumentKind.PLAN,
            published_by=w.members["b4"],
            publisher_org_id=w.orgs["district"],
            occurred_at=at("2026-10-06T00:00:00+00:00"),
        ),
        dev.DocumentRetracted(
            document_id=doc3,
            reason_code=dev.RetractionReason.PUBLISHED_IN_ERROR,
            retracted_by=w.members["b4"],
            occurred_at=at("2026-10-07T00:00:00+00:00"),
        ),
        # Reading P1 (10 November): a1 opened then studied, a2 opened, a3 studied, b1 opened.
        _read(w, doc1, p1, "a1", "opened", 10, "2026-11-10T01:00:00+00:00"),
        _read(w, doc1, p1, "a1", "studied", 100, "2026-11-10T02:00:00+00:00"),
        _read(w, doc1, p1, "a2", "opened", 5, "2026-11-10T01:00:00+00:00"),
        _read(w, doc1, p1, "a3", "studied", 100, "2026-11-10T01:00:00+00:00"),
        _read(w, doc1, p1, "b1", "opened", 30, "2026-11-10T01:00:00+00:00"),
    ]  # fmt: skip
    return Scenario(p1, p2, p3, doc1, m1, m2, m3, ev)
