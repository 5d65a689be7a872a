"""Every service's audit log through the gateway: a root operator lists it and verifies its
chain after a sensitive action of that service; nobody else may read it.

The sensitive actions, one per service: a login (identity), an internal document uploaded
(documents), minutes signed (meetings), a secretary setting a member's SMS contact (notify) and
a report exported as CSV (analytics)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from .conftest import Platform, make_pdf, wait_until

pytestmark = pytest.mark.e2e

SERVICES = ("identity", "documents", "meetings", "notify", "analytics")
MEETINGS = "/api/v1/meetings"


async def _upload_internal_document(platform: Platform, client: httpx.AsyncClient) -> str:
    r = await client.post(
        "/api/v1/documents",
        data={
            "title": "Báo cáo nội bộ để kiểm toán",
            "kind": "report",
            "classification": "internal",
            "org_id": platform.credentials["orgs"]["province_id"],
        },
        files={"file": ("bao-cao.pdf", make_pdf(["Báo cáo nội bộ"]), "application/pdf")},
        headers=await platform.auth("admin"),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _sign_minutes(platform: Platform, client: httpx.AsyncClient) -> str:
    """A meeting of the demo cell starting in a few seconds, closed once started, its minutes
    signed."""
    secretary = await platform.auth("secretary")
    starts = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    r = await client.post(
        MEETINGS,
        json={
            "org_id": platform.credentials["orgs"]["cell_id"],
            "kind": "thematic",
            "title": "Sinh hoạt chuyên đề để kiểm toán",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
            "location": "Nhà văn hóa thôn",
            "agenda": ["Chuyên đề"],
        },
        headers=secretary,
    )
    assert r.status_code == 201, r.text
    [meeting] = r.json()["meetings"]
    mid = meeting["id"]

    async def closed() -> bool:
        r = await client.post(f"{MEETINGS}/{mid}/close", headers=secretary)
        if r.status_code == 409 and r.json()["type"].endswith("/meeting-not-started"):
            return False
        assert r.status_code == 200, r.text
        return True

    await wait_until(closed, "the meeting's start")
    r = await client.get(f"{MEETINGS}/{mid}/minutes", headers=secretary)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{MEETINGS}/{mid}/minutes/sign",
        json={"content_sha256": r.json()["content_sha256"]},
        headers=secretary,
    )
    assert r.status_code == 200, r.text
    return str(mid)


async def _set_members_sms(platform: Platform, client: httpx.AsyncClient) -> str:
    """The demo cell's secretary turns SMS on for the demo member (notify learns the member's
    place from identity's events: retried until it has)."""
    member_id = platform.credentials["member"]["member_id"]
    secretary = await platform.auth("secretary")
    body = {"channels": {"webpush": True, "sms": True}, "phone": "+84912345678"}

    async def accepted() -> bool:
        r = await client.put(
            f"/api/v1/notification-preferences/{member_id}", json=body, headers=secretary
        )
        if r.status_code == 404:
            return False
        assert r.status_code == 200, r.text
        return True

    await wait_until(accepted, "notify to know the demo member")
    return str(member_id)


async def _export_report(platform: Platform, client: httpx.AsyncClient) -> str:
    r = await client.get(
        "/api/v1/reports/adoption", params={"format": "csv"}, headers=await platform.auth("admin")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return "adoption"


async def _entries(
    client: httpx.AsyncClient, service: str, headers: dict[str, str]
) -> list[dict[str, Any]]:
    """The whole log, newest first, page by page (its cursor is the last entry's seq)."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        r = await client.get(f"/api/v1/{service}/audit", params=params, headers=headers)
        assert r.status_code == 200, (service, r.text)
        page = r.json()
        items += page["items"]
        if not page["next_cursor"]:
            return items
        params["cursor"] = page["next_cursor"]


async def test_root_operator_reads_and_verifies_every_services_audit_log(
    platform: Platform,
) -> None:
    async with platform.client() as client:
        operator = await platform.auth("operator")  # a login: identity's entry
        expected = {
            "identity": ("auth.login", None),
            "documents": ("documents.uploaded", await _upload_internal_document(platform, client)),
            "meetings": ("meetings.minutes_signed", await _sign_minutes(platform, client)),
            "notify": (
                "notify.preferences_set_for_member",
                await _set_members_sms(platform, client),
            ),
            "analytics": ("analytics.report_exported", await _export_report(platform, client)),
        }
        for service in SERVICES:
            action, target = expected[service]
            entries = await _entries(client, service, operator)
            mine = [
                e
                for e in entries
                if e["action"] == action and (target is None or e["target"] == target)
            ]
            assert mine, f"{service}: no {action} entry for {target} in {len(entries)} entries"
            # Audit entries carry ids and codes, never contact data.
            assert "+84912345678" not in str(entries)
            seqs = [e["seq"] for e in entries]
            assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)

            r = await client.get(f"/api/v1/{service}/audit/verify", headers=operator)
            assert r.status_code == 200, (service, r.text)
            chain = r.json()
            assert chain["ok"] is True and chain["first_broken_seq"] is None, (service, chain)
            assert chain["entries"] >= len(entries)


@pytest.mark.parametrize("label", ["admin", "secretary", "member"])
async def test_nobody_but_a_root_operator_reads_an_audit_log(
    platform: Platform, label: str
) -> None:
    """The province's org admin is refused too: the logs are an operator's, not an admin's."""
    headers = await platform.auth(label)
    async with platform.client() as client:
        for service in SERVICES:
            for path in (f"/api/v1/{service}/audit", f"/api/v1/{service}/audit/verify"):
                r = await client.get(path, headers=headers)
                assert r.status_code == 403, (label, path, r.text)
                assert r.headers["content-type"].startswith("application/problem+json")
                assert r.json()["title"]
                r = await client.get(path)
                assert r.status_code == 401, (path, r.text)
