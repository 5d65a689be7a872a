"""A publication to a large audience through the whole platform (its own stack, notify's
inline limit lowered to 3 so that the demo district is "large"): notify reports it once on the
bus (``broadcast_delivered.v1``, no batch of member ids), analytics' reach report counts the
whole audience notified from that one event, and a member of the district finds it in their
inbox whether or not notify's worker has written their row yet."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sotay_devstack.testing import server_dir
from sotay_kit import messaging

from .conftest import Platform, _platform, publish_pdf
from .test_fanout_e2e import BATCH, until_all_notified

pytestmark = pytest.mark.e2e
BROADCAST = "notify.notification.broadcast_delivered.v1"


@pytest.fixture(scope="module")
def broadcasting() -> Iterator[Platform]:
    with pytest.MonkeyPatch.context() as env, server_dir("broadcast") as data:
        env.setenv("NOTIFY_FANOUT_INLINE_MAX", "3")
        yield from _platform(data)


async def _subject_messages(platform: Platform, subject: str) -> list[dict[str, Any]]:
    """Every message of ``subject`` on the NOTIFY stream (their JSON bodies)."""
    nc = await messaging.connect(platform.nats_url, name="e2e-broadcast")
    try:
        js = nc.jetstream()
        info = await js.stream_info("NOTIFY", subjects_filter=subject)
        if not (info.state.subjects or {}).get(subject):
            return []
        sub = await js.pull_subscribe(subject, stream="NOTIFY")
        bodies: list[dict[str, Any]] = []
        while len(bodies) < info.state.subjects[subject]:
            for msg in await sub.fetch(100, timeout=5):
                bodies.append(json.loads(msg.data))
                await msg.ack()
        await sub.unsubscribe()
        return bodies
    finally:
        await nc.close()


async def test_a_large_publication_is_reported_once_and_reaches_every_inbox(
    broadcasting: Platform,
) -> None:
    platform = broadcasting
    orgs = platform.credentials["orgs"]
    admin = await platform.auth("admin")
    member = await platform.auth("member")
    async with platform.client() as client:
        document_id, publication = await publish_pdf(
            client, admin, "Nghị quyết phát tới cả huyện", orgs["district_id"]
        )
        audience = publication["audience_size"]
        assert audience > 3  # over the lowered limit: a fan-out job

        district = await until_all_notified(
            client, admin, orgs["district_id"], publication["id"], audience
        )
        assert all(row["notified"] == row["audience"] for row in district["rows"])

        # The member's inbox has it (written by the worker or at this read), once.
        r = await client.get("/api/v1/inbox", headers=member)
        assert r.status_code == 200, r.text
        mine = [i for i in r.json()["items"] if i["cause_id"] == publication["id"]]
        assert len(mine) == 1 and mine[0]["link"] == f"/documents/{document_id}"

    # On the bus: one broadcast naming the district's path, no batch of member ids.
    broadcasts = [
        b
        for b in await _subject_messages(platform, BROADCAST)
        if b["cause_id"] == publication["id"]
    ]
    assert len(broadcasts) == 1
    assert broadcasts[0]["channel"] == "inapp" and broadcasts[0]["audience_org_paths"]
    assert "member_ids" not in broadcasts[0]
    assert not [
        b for b in await _subject_messages(platform, BATCH) if b["cause_id"] == publication["id"]
    ]
