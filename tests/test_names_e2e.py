"""People and documents by name, through the gateway (issue 11, "People, not ids").

In a district and cell of its own, the province's admin publishes a resolution by number and
issuer to two members; uploading it again is answered with the existing one. The secretary's
meeting roster and minutes draft name the members and the resolution by number and title; the
committee's reach report names the members, as JSON, CSV and XLSX, with no internal id column.
The names travel on identity's internal directory, never on PUBLIC; when a member leaves, every
service forgets the name."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook
from sotay_contracts import CloudEvent, Event, parse_event
from sotay_contracts.events.identity import MemberDescribed
from sotay_kit import messaging
from sotay_kit.topology import PUBLIC_STREAM

from .conftest import NEW_PASSWORD, Platform, make_pdf, new_member, wait_until

pytestmark = pytest.mark.e2e

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


async def _login(client: httpx.AsyncClient, card: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"username": card, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}


async def _directory(platform: Platform, subject: str, member_id: str) -> Event:
    """The first event about ``member_id`` on an ``identity.directory.*`` subject, read from
    the start of ``IDENTITY`` (the demo province's entries, loaded outside any request, come
    first and carry no trace context)."""
    nc = await messaging.connect(platform.nats_url, name="e2e-names")
    try:
        sub = await nc.jetstream().subscribe(subject, ordered_consumer=True)
        while True:
            msg = await sub.next_msg(timeout=30)
            ce = CloudEvent.from_nats(msg.headers, msg.data)
            if ce.subject == member_id:
                assert ce.traceparent is not None  # enqueued by the request that changed it
                return parse_event(ce)
    finally:
        await nc.close()


async def _ok(response: Any) -> Any:
    r = await response
    assert r.status_code in (200, 201), r.text
    return r.json()


async def test_reports_minutes_and_lists_name_people_and_documents(platform: Platform) -> None:
    admin = await platform.auth("admin")
    tag = uuid.uuid4().hex[:6]
    number, issuer = f"{tag[:3]}-NQ/TU", f"Ban Thường vụ Tỉnh ủy {tag}"
    title = f"Nghị quyết về chuyển đổi số {tag}"
    async with platform.client() as client:
        district = await _ok(client.post(
            "/api/v1/orgs", headers=admin,
            json={"parent_id": platform.credentials["orgs"]["province_id"],
                  "title": f"Đảng bộ huyện Tên Người {tag}", "kind": "district"},
        ))  # fmt: skip
        cell = await _ok(client.post(
            "/api/v1/orgs", headers=admin,
            json={"parent_id": district["id"], "title": f"Chi bộ Thôn Tên {tag}",
                  "kind": "grassroots_cell"},
        ))  # fmt: skip
        hoa = await new_member(platform, client, cell["id"], "Nguyễn Thị Hoà")
        binh = await _ok(client.post(
            "/api/v1/members", headers=admin,
            json={"card_number": f"E2E{tag.upper()}B", "full_name": "Trần Văn Bình",
                  "cell_id": cell["id"]},
        ))  # fmt: skip
        await _ok(client.post(
            "/api/v1/role-grants", headers=admin,
            json={"member_id": hoa.member_id, "role": "cell_secretary", "org_id": cell["id"]},
        ))  # fmt: skip
        secretary = await _login(client, hoa.card_number)
        names = {hoa.member_id: ("Nguyễn Thị Hoà", hoa.card_number),
                 binh["id"]: ("Trần Văn Bình", binh["card_number"])}  # fmt: skip

        # ── a resolution by number and issuer; the same again is answered with it ─────────
        pdf = make_pdf(["Nghị quyết", "Chuyển đổi số"])

        async def upload(**extra: str) -> httpx.Response:
            return await client.post(
                "/api/v1/documents", headers=admin,
                data={"title": title, "kind": "resolution", "number": number, "issuer": issuer,
                      "org_id": district["id"], **extra},
                files={"file": ("nq.pdf", pdf, "application/pdf")},
            )  # fmt: skip

        first = await upload()
        assert first.status_code == 201, first.text
        document_id = first.json()["id"]
        twice = await upload()
        assert twice.status_code == 409
        assert twice.headers["content-type"].startswith("application/problem+json")
        assert twice.json()["type"].endswith("/duplicate-document")
        assert [e["id"] for e in twice.json()["existing"]] == [document_id]

        async def published() -> bool:  # documents' identity projection may be catching up
            r = await client.post(
                f"/api/v1/documents/{document_id}/publish", headers=admin,
                json={"org_ids": [cell["id"]], "study_required": True,
                      "study_deadline": (datetime.now(UTC) + timedelta(days=9)).isoformat()},
            )  # fmt: skip
            if r.status_code == 201 and r.json()["audience_size"] == 2:
                return True
            if r.status_code == 201:
                await client.post(f"/api/v1/documents/{document_id}/retract", headers=admin)
            return False

        await wait_until(published, "both members in the audience")
        await _ok(client.post(
            f"/api/v1/documents/{document_id}/reads", headers=hoa.auth,
            json={"progress_percent": 100, "studied": True},
        ))  # fmt: skip

        # ── the secretary's meeting: roster and minutes draft by name and number ──────────
        starts = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
        [meeting] = (await _ok(client.post(
            "/api/v1/meetings", headers=secretary,
            json={"org_id": cell["id"], "kind": "regular", "title": "Sinh hoạt thường kỳ",
                  "starts_at": starts.isoformat(),
                  "ends_at": (starts + timedelta(hours=2)).isoformat(),
                  "location": "Nhà văn hóa", "agenda": ["Học tập nghị quyết"],
                  "document_ids": [document_id]},
        )))["meetings"]  # fmt: skip
        mid = meeting["id"]

        async def roster_named() -> bool:
            r = await client.patch(
                f"/api/v1/meetings/{mid}", json={"refresh_roster": True}, headers=secretary
            )
            assert r.status_code == 200, r.text
            got = {i["member_id"]: (i["full_name"], i["card_number"]) for i in r.json()["roster"]}
            return got == names

        await wait_until(roster_named, "the roster named by identity's directory", timeout=60)
        # The chair is the secretary by default only once meetings has projected the new grant;
        # on a busy machine the meeting may be scheduled before that, so name the chair.
        await _ok(client.patch(
            f"/api/v1/meetings/{mid}", json={"chair_id": hoa.member_id}, headers=secretary
        ))  # fmt: skip
        draft = await _ok(client.get(f"/api/v1/meetings/{mid}/minutes", headers=secretary))
        text = draft["content"]
        assert "**Chủ trì:** Nguyễn Thị Hoà" in text and "  - Trần Văn Bình" in text
        assert f"- {number} {title}" in text
        assert document_id not in text and binh["id"] not in text

        # ── the committee's reports and exports name members, not ids ─────────────────────
        reach_params = {"org_id": cell["id"], "document_id": document_id}

        async def reach() -> dict[str, Any]:
            return dict(await _ok(client.get(
                "/api/v1/reports/document-reach", params=reach_params, headers=admin
            )))  # fmt: skip

        async def reach_named() -> bool:
            rows = (await reach())["rows"]
            named = {r["member_id"]: (r["full_name"], r["card_number"]) for r in rows}
            return named == names and sum(r["studied"] for r in rows) == 1  # Hoà's read too

        await wait_until(reach_named, "analytics to name the audience", timeout=60)
        report = await reach()
        labels = [c["label"] for c in report["columns"]]
        assert labels[:2] == ["Họ và tên", "Số thẻ đảng viên"] and "Mã đảng viên" not in labels
        shown = report["parameters"]
        assert (shown["document_number"], shown["document_title"]) == (number, title)
        r = await client.get(
            "/api/v1/reports/document-reach", params={**reach_params, "format": "csv"},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 200, r.text
        lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert lines[0][:2] == ["Họ và tên", "Số thẻ đảng viên"]
        assert {(x[0], x[1]) for x in lines[1:-1]} == set(names.values())
        assert hoa.member_id not in r.text and binh["id"] not in r.text
        r = await client.get(
            "/api/v1/reports/document-reach", params={**reach_params, "format": "xlsx"},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 200, r.text
        sheet = load_workbook(io.BytesIO(r.content)).active
        assert sheet is not None
        table = [list(x) for x in sheet.iter_rows(values_only=True)]
        by_name = {row[0]: dict(zip(table[0], row, strict=True)) for row in table[1:-1]}
        assert by_name["Nguyễn Thị Hoà"]["Số thẻ đảng viên"] == hoa.card_number
        assert by_name["Nguyễn Thị Hoà"]["Đã học tập"] == 1
        # The who-studied list of the documents service names them too.
        r = await client.get(
            f"/api/v1/documents/{document_id}/reads", params={"org_id": cell["id"]},
            headers=secretary,
        )  # fmt: skip
        studied = {i["member_id"]: (i["full_name"], i["card_number"], i["status"])
                   for i in r.json()["items"]}  # fmt: skip
        assert studied[hoa.member_id] == (*names[hoa.member_id], "studied")

        # ── the names travel on identity's internal directory, never on PUBLIC ────────────
        described = await _directory(platform, "identity.directory.described.v1", hoa.member_id)
        assert isinstance(described, MemberDescribed)
        assert (described.full_name, described.card_number) == names[hoa.member_id]
        nc = await messaging.connect(platform.nats_url, name="e2e-names")
        try:
            info = await nc.jetstream().stream_info(
                PUBLIC_STREAM, subjects_filter="identity.directory.>"
            )
            assert not info.state.subjects
        finally:
            await nc.close()

        # ── Bình leaves: meetings and analytics forget his name ───────────────────────────
        today = datetime.now(HANOI).date().isoformat()
        await _ok(client.post(
            f"/api/v1/members/{binh['id']}/deactivate", headers=admin,
            json={"reason_code": "transferred_out", "effective_on": today},
        ))  # fmt: skip
        await _directory(platform, "identity.directory.erased.v1", binh["id"])

        async def forgotten() -> bool:
            rows = {r["member_id"]: r for r in (await reach())["rows"]}
            m = await _ok(client.get(f"/api/v1/meetings/{mid}", headers=secretary))
            roster = {i["member_id"]: i for i in m["roster"]}
            return all(
                x.get(binh["id"], {}).get("full_name") is None
                and x.get(binh["id"], {}).get("card_number") is None
                for x in (rows, roster)
            )

        await wait_until(forgotten, "the name of a member who left to be erased", timeout=60)
        draft = await _ok(client.get(f"/api/v1/meetings/{mid}/minutes", headers=secretary))
        assert "Trần Văn Bình" not in draft["content"]
        assert "Nguyễn Thị Hoà" in draft["content"]
