"""The reach report counts notified members from notify's in-app deliveries reported per
batch (``notify.notification.delivered_batch.v1``): right per org and per member through the
whole platform, and unchanged when a batch is delivered again."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import uuid_utils
from sotay_kit import messaging

from .conftest import Platform, publish_pdf

pytestmark = pytest.mark.e2e
BATCH = "notify.notification.delivered_batch.v1"


async def _until(check: Callable[[], Awaitable[Any]], what: str, limit: float = 30) -> Any:
    deadline = time.monotonic() + limit
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not within {limit:.0f}s"
        await asyncio.sleep(0.1)


async def _reach(
    client: httpx.AsyncClient, auth: dict[str, str], org_id: str, publication_id: str
) -> dict[str, Any]:
    r = await client.get(
        "/api/v1/reports/document-reach",
        params={"org_id": org_id, "publication_id": publication_id},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def until_all_notified(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    org_id: str,
    publication_id: str,
    audience: int,
) -> dict[str, Any]:
    """The reach report of the publication at ``org_id`` once it shows every member of its
    audience notified."""

    async def reached() -> dict[str, Any] | None:
        report = await _reach(client, auth, org_id, publication_id)
        total = report["total"]
        done = total["audience"] == audience and total["notified"] == audience
        return report if done else None

    report: dict[str, Any] = await _until(reached, "every member of the audience notified")
    return report


async def test_reach_counts_batched_deliveries_per_org_and_member_once(
    platform: Platform,
) -> None:
    orgs = platform.credentials["orgs"]
    admin = await platform.auth("admin")
    async with platform.client() as client:
        _, publication = await publish_pdf(
            client, admin, "Nghị quyết đo lan tỏa thông báo", orgs["district_id"]
        )
        audience = publication["audience_size"]
        assert audience > 1

        district = await until_all_notified(
            client, admin, orgs["district_id"], publication["id"], audience
        )
        # Per org: every child's notified count equals its audience.
        assert all(row["notified"] == row["audience"] for row in district["rows"])
        assert sum(row["notified"] for row in district["rows"]) == audience
        # Per member, in the demo cell: each member notified once.
        cell = await _reach(client, admin, orgs["cell_id"], publication["id"])
        assert cell["level"] == "member" and cell["rows"]
        assert {row["notified"] for row in cell["rows"]} == {1}
        member_id = platform.credentials["member"]["member_id"]
        assert member_id in {row["member_id"] for row in cell["rows"]}

        # The same batch delivered again (a new NATS message, same event id), and the same
        # members reported again by another event: no number changes.
        nc = await messaging.connect(platform.nats_url, name="e2e-fanout")
        try:
            js = nc.jetstream()
            msg = await js.get_last_msg("NOTIFY", BATCH)
            headers = dict(msg.headers or {})
            await js.publish(
                msg.subject, msg.data, headers=headers | {"Nats-Msg-Id": f"again-{uuid.uuid4()}"}
            )
            other = str(uuid_utils.uuid7())
            await js.publish(
                msg.subject,
                msg.data,
                headers=headers | {"Nats-Msg-Id": other, "ce-id": other},
            )

            async def settled() -> bool:
                info = await js.consumer_info("NOTIFY", "analytics")
                return info.num_pending == 0 and info.num_ack_pending == 0

            await _until(settled, "analytics consumed the batches again")
        finally:
            await nc.close()
        again = await _reach(client, admin, orgs["district_id"], publication["id"])
        assert again["rows"] == district["rows"] and again["total"] == district["total"]
