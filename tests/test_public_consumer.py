"""The example consumer of docs/analytics.md, run as is against a real NATS with the external
analytics user: it gets the public subjects, and that user is refused everything else — the
documents' directory (their numbers and titles) and identity's directory (members' names and
card numbers) included."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NATS
from sotay_contracts import CloudEvent, Event, new_cloud_event, parse_event
from sotay_contracts.events import documents as dev
from sotay_contracts.events import identity as iev
from sotay_contracts.events import meetings as mev
from sotay_devstack.testing import Infra
from sotay_kit import messaging
from sotay_kit.topology import ANALYTICS_READER_NATS_USER, PUBLIC_STREAM

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "examples" / "public_consumer.py"
NOW = datetime(2026, 11, 3, 12, tzinfo=UTC)


def _events() -> tuple[list[Event], list[Event]]:
    meeting, member, cell = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    public: list[Event] = [
        dev.DocumentPublished(
            document_id=uuid.uuid4(), version=1, publication_id=uuid.uuid4(),
            audience_org_ids=[cell], audience_org_paths=["1.2"], audience_size=5,
            study_required=False, classification=dev.Classification.PUBLIC,
            kind=dev.DocumentKind.NOTICE, published_by=member, publisher_org_id=cell,
            occurred_at=NOW,
        ),
        dev.DocumentRead(
            document_id=uuid.uuid4(), version=1, member_id=member, cell_id=cell,
            org_path="1.2.3", state=dev.ReadState.STUDIED, progress_percent=100,
            occurred_at=NOW,
        ),
        mev.AttendanceRecorded(
            meeting_id=meeting, member_id=member, org_id=cell, org_path="1.2.3",
            meeting_kind=mev.MeetingKind.REGULAR, meeting_starts_at=NOW,
            status=mev.AttendanceStatus.PRESENT, method=mev.AttendanceMethod.CODE,
            recorded_by=member, occurred_at=NOW,
        ),
        mev.MeetingClosed(
            meeting_id=meeting, org_id=cell, org_path="1.2.3", kind=mev.MeetingKind.REGULAR,
            starts_at=NOW, invited=1, present=1, late=0, absent_excused=0, absent_unexcused=0,
            exempt=0, quorum_required=0.6667, quorum_met=True, closed_by=member,
            occurred_at=NOW,
        ),
    ]  # fmt: skip
    private: list[Event] = [
        mev.RsvpRecorded(
            meeting_id=meeting, member_id=member, response=mev.RsvpResponse.ATTENDING,
            occurred_at=NOW,
        ),
        # A document's number and title: the services' directory, never external consumers'.
        dev.DocumentDescribed(
            document_id=uuid.uuid4(), version=1, number="01-NQ/TU", title="Nghị quyết nội bộ",
            kind=dev.DocumentKind.RESOLUTION, classification=dev.Classification.INTERNAL,
            owner_org_id=cell, occurred_at=NOW,
        ),
        # A member's name and card number: identity's directory, for the services only.
        iev.MemberDescribed(
            member_id=member, full_name="Nguyễn Thị Hoa", card_number="93.000001", cell_id=cell,
            org_path="1.2.3", revision=1, occurred_at=NOW,
        ),
        iev.MemberErased(member_id=member, revision=2, occurred_at=NOW),
    ]  # fmt: skip
    return public, private


async def _publish(nc: NATS, events: list[Event]) -> list[str]:
    js = nc.jetstream()
    ids = []
    for e in events:
        ce = new_cloud_event(e)
        await js.publish(ce.nats_subject, ce.data, headers=ce.to_nats_headers())
        ids.append(ce.id)
    return ids


async def run_example(
    nats_url: str, password: str, durable: str, n: int
) -> list[dict[str, object]]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "NATS_URL": nats_url,
        "NATS_USER": ANALYTICS_READER_NATS_USER,
        "NATS_PASSWORD": password,
        "NATS_DURABLE": durable,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), "--max", str(n), "--idle", "30",
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines()]


async def assert_reader_refused(nats_url: str, password: str) -> None:
    """The external user may not publish, subscribe to the services' subjects, or pull from a
    service's durable."""
    errors: list[str] = []
    got = asyncio.Event()

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc).lower())
        got.set()

    reader = await nats.connect(
        nats_url, user=ANALYTICS_READER_NATS_USER, password=password,
        inbox_prefix="_INBOX_ext", error_cb=on_error, allow_reconnect=False,
    )  # fmt: skip
    try:
        for action in (
            lambda: reader.publish("documents.document.read.v1", b"{}"),
            lambda: reader.subscribe("meetings.>"),
            lambda: reader.subscribe("documents.directory.>"),
            lambda: reader.subscribe("identity.directory.>"),
            lambda: reader.publish(
                "$JS.API.CONSUMER.MSG.NEXT.DOCUMENTS.analytics", b"1", reply="_INBOX_ext.x"
            ),
        ):
            got.clear()
            await action()
            await asyncio.wait_for(got.wait(), 5)
            assert "permissions violation" in errors[-1]
    finally:
        await reader.close()


async def test_example_consumer_reads_public_events_only(infra: Infra, nats_operator: NATS) -> None:
    js = nats_operator.jetstream()
    spec = messaging.external_consumer("servers_test")
    assert (spec.name, spec.stream) == ("ext-servers_test", PUBLIC_STREAM)
    await messaging.provision(js, [], [spec])
    public, private = _events()
    await _publish(nats_operator, private)
    ids = await _publish(nats_operator, public)
    await _publish(nats_operator, private)

    password = infra.nats_passwords[ANALYTICS_READER_NATS_USER]
    got = await run_example(infra.nats.url, password, spec.name, len(public))
    # PUBLIC sources DOCUMENTS and MEETINGS asynchronously: the order between them may vary.
    assert sorted(str(e["id"]) for e in got) == sorted(ids)
    for line in got:
        ce = CloudEvent(
            id=str(line["id"]), source=str(line["source"]), type=str(line["type"]),
            subject=str(line["subject"]), time=datetime.fromisoformat(str(line["time"])),
            dataschema=str(line["dataschema"]), data=json.dumps(line["data"]).encode(),
        )  # fmt: skip
        assert type(parse_event(ce)) in {type(e) for e in public}
    info = await js.consumer_info(PUBLIC_STREAM, spec.name)
    assert (info.num_ack_pending, info.num_pending) == (0, 0)
    await assert_reader_refused(infra.nats.url, password)


def test_external_consumer_names_are_checked() -> None:
    with pytest.raises(ValueError, match="team"):
        messaging.external_consumer("Bad Team")
    with pytest.raises(ValueError, match="not public"):
        messaging.external_consumer("ok", subjects=["meetings.rsvp.recorded.v1"])
    with pytest.raises(ValueError, match="not public"):
        messaging.external_consumer("ok", subjects=["documents.directory.described.v1"])
    with pytest.raises(ValueError, match="not public"):
        messaging.external_consumer("ok", subjects=["identity.directory.described.v1"])
