"""Analytics through the gateway with the demo province (issue 7's acceptance path).

The province's admin opens a new district with one grassroots cell of five members (four log
in, one never does) and a secretary. A scripted month follows: a resolution is published to the
district for study and studied by two of the five (a third opens it); the cell holds its regular
meeting with known attendance (2 present, 1 late, 1 excused, 1 unexcused). Every report then
shows exactly those numbers through the gateway as JSON, CSV and XLSX; a rebuild from the streams
arrives at the same numbers; the external consumer's example script receives the read and
attendance events and its user is refused anything else."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook
from sotay_kit import messaging
from sotay_kit.topology import ANALYTICS_READER_NATS_USER, PUBLIC_SUBJECTS

from .conftest import NEW_PASSWORD, Platform, make_pdf, new_member, wait_until
from .test_public_consumer import assert_reader_refused, run_example

pytestmark = pytest.mark.e2e

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
REPORTS = "/api/v1/reports"
MEETINGS = "/api/v1/meetings"


async def _login(client: httpx.AsyncClient, card: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"username": card, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}


async def _report(
    client: httpx.AsyncClient, name: str, auth: dict[str, str], **params: Any
) -> dict[str, Any]:
    r = await client.get(f"{REPORTS}/{name}", params=params, headers=auth)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def _reader_url(operator_url: str, password: str) -> str:
    parts = urlsplit(operator_url)
    host = parts.hostname or "127.0.0.1"
    return urlunsplit((parts.scheme, f"{host}:{parts.port}", "", "", ""))


async def test_a_scripted_month_in_every_report(platform: Platform) -> None:
    admin = await platform.auth("admin")
    province_id = platform.credentials["orgs"]["province_id"]
    tag = uuid.uuid4().hex[:6]
    async with platform.client() as client:
        # ── a new district with one grassroots cell of five members ───────────────────────
        r = await client.post(
            "/api/v1/orgs",
            json={"parent_id": province_id, "title": f"Đảng bộ huyện Thử Nghiệm {tag}",
                  "kind": "district"},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        district = r.json()
        r = await client.post(
            "/api/v1/orgs",
            json={"parent_id": district["id"], "title": f"Chi bộ cơ sở Thôn Mới {tag}",
                  "kind": "grassroots_cell"},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        cell = r.json()
        sec = await new_member(platform, client, cell["id"], "Nguyễn Thị Bí Thư")
        m1 = await new_member(platform, client, cell["id"], "Trần Văn Một")
        m2 = await new_member(platform, client, cell["id"], "Lê Thị Hai")
        m3 = await new_member(platform, client, cell["id"], "Phạm Văn Ba")
        r = await client.post(  # the fifth never logs in
            "/api/v1/members",
            json={"card_number": f"E2E{tag.upper()}X", "full_name": "Hoàng Văn Năm",
                  "cell_id": cell["id"]},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        m4_id = r.json()["id"]
        for who, role, org in ((sec, "cell_secretary", cell), (m3, "committee_member", district)):
            r = await client.post(
                "/api/v1/role-grants",
                json={"member_id": who.member_id, "role": role, "org_id": org["id"]},
                headers=admin,
            )
            assert r.status_code == 201, r.text
        secretary = await _login(client, sec.card_number)  # a token with the new grant
        committee = await _login(client, m3.card_number)

        # ── a resolution for the district, studied by two of five, opened by a third ──────
        r = await client.post(
            "/api/v1/documents",
            data={"title": f"Nghị quyết thử nghiệm {tag}", "kind": "resolution",
                  "classification": "internal", "org_id": district["id"]},
            files={"file": ("nq.pdf", make_pdf(["Nghị quyết", "Học tập và làm theo"]),
                            "application/pdf")},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        document_id = r.json()["id"]
        deadline = datetime.now(UTC) + timedelta(days=20)

        async def publish() -> bool:  # documents' identity projection may be catching up
            r = await client.post(
                f"/api/v1/documents/{document_id}/publish",
                json={"org_ids": [district["id"]], "study_required": True,
                      "study_deadline": deadline.isoformat()},
                headers=admin,
            )  # fmt: skip
            if r.status_code == 201 and r.json()["audience_size"] == 5:
                return True
            assert r.status_code in (201, 404, 422), r.text
            if r.status_code == 201:  # published too early: retract and publish again
                await client.post(f"/api/v1/documents/{document_id}/retract", headers=admin)
            return False

        await wait_until(publish, "the district's five members in the audience")
        for who, body in (
            (sec, {"progress_percent": 100, "studied": True}),
            (m1, {"progress_percent": 100, "studied": True}),
            (m2, {"progress_percent": 20}),
        ):
            r = await client.post(
                f"/api/v1/documents/{document_id}/reads", json=body, headers=who.auth
            )
            assert r.status_code in (200, 201), r.text

        # ── the regular meeting: 2 present, 1 late, 1 excused, 1 unexcused ─────────────────
        starts = (datetime.now(UTC) + timedelta(seconds=12)).replace(microsecond=0)
        r = await client.post(
            MEETINGS,
            json={"org_id": cell["id"], "kind": "regular", "title": "Sinh hoạt thường kỳ",
                  "starts_at": starts.isoformat(),
                  "ends_at": (starts + timedelta(hours=2)).isoformat(),
                  "location": "Nhà văn hóa", "agenda": ["Kiểm điểm"]},
            headers=secretary,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        [meeting] = r.json()["meetings"]
        mid = meeting["id"]
        everyone = {sec.member_id, m1.member_id, m2.member_id, m3.member_id, m4_id}
        roster = {i["member_id"] for i in meeting["roster"]}

        async def roster_complete() -> bool:
            if roster == everyone:
                return True
            r = await client.patch(
                f"{MEETINGS}/{mid}", json={"refresh_roster": True}, headers=secretary
            )
            assert r.status_code == 200, r.text
            roster.clear()
            roster.update(i["member_id"] for i in r.json()["roster"])
            return roster == everyone

        await wait_until(roster_complete, "the meeting's roster to be the cell's five members")
        r = await client.post(
            f"{MEETINGS}/{mid}/rsvp",
            json={"response": "absent", "reason_code": "cong_tac"},
            headers=m2.auth,
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            f"{MEETINGS}/{mid}/rsvp", json={"response": "attending"}, headers=committee
        )
        assert r.status_code == 200, r.text
        r = await client.get(f"{MEETINGS}/{mid}/checkin-code", headers=secretary)
        assert r.status_code == 200, r.text
        code = r.json()["code"]
        for who in (sec, m1):
            r = await client.post(
                f"{MEETINGS}/{mid}/checkin", json={"code": code}, headers=who.auth
            )
            assert r.status_code == 200, r.text
        r = await client.post(
            f"{MEETINGS}/{mid}/attendance/{m3.member_id}", json={"status": "late"},
            headers=secretary,
        )  # fmt: skip
        assert r.status_code == 200, r.text
        await asyncio.sleep(max(0.0, starts.timestamp() - time.time() + 0.5))
        r = await client.post(f"{MEETINGS}/{mid}/close", headers=secretary)
        assert r.status_code == 200, r.text

        # ── every report shows the known numbers ───────────────────────────────────────────
        month = datetime.now(HANOI).strftime("%Y-%m")
        params = {"org_id": district["id"]}

        async def caught_up() -> bool:
            reach = await _report(client, "document-reach", admin, **params)
            meetings = await _report(client, "meetings", admin, **params, **{"from": month})
            return reach["total"]["studied"] == 2 and len(meetings["rows"]) == 1

        await wait_until(caught_up, "analytics to apply the month", timeout=60)

        reach = await _report(client, "document-reach", admin, **params)
        [row] = reach["rows"]
        assert row["org_id"] == cell["id"] and row["org_title"] == cell["title"]
        assert (row["audience"], row["opened"], row["studied"], row["overdue"]) == (5, 3, 2, 0)
        assert row["studied_ratio"] == 0.4 and 0 <= row["notified"] <= 5
        # The documents service holds the same: who studied it in the district.
        r = await client.get(
            f"/api/v1/documents/{document_id}/reads", params={"org_id": district["id"]},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.json()["totals"]["studied"] == 2
        # Drill down to the cell: one row per member.
        cell_reach = await _report(client, "document-reach", admin, org_id=cell["id"])
        studied = {x["member_id"] for x in cell_reach["rows"] if x["studied"]}
        assert studied == {sec.member_id, m1.member_id}

        attendance = await _report(client, "attendance", admin, **params, **{"from": month})
        [att] = [x for x in attendance["rows"] if x["month"] == month]
        keys = ("meetings_held", "regular_held", "regular_on_schedule", "invited", "present",
                "late", "absent_excused", "absent_unexcused", "exempt", "quorum_met")  # fmt: skip
        assert tuple(att[k] for k in keys) == (1, 1, 1, 5, 2, 1, 1, 1, 0, 0)
        assert att["attendance_rate"] == 0.6
        r = await client.get(f"{MEETINGS}/{mid}", headers=secretary)  # what meetings holds
        assert r.json()["status"] == "closed"

        adoption = await _report(client, "adoption", admin, **params)
        t = adoption["total"]
        assert (t["orgs"], t["orgs_using"], t["members"], t["activated"], t["active"]) == (
            2, 1, 5, 4, 4,
        )  # fmt: skip
        assert t["activated_ratio"] == 0.8 and adoption["targets"]["activated_ratio"] == 0.95

        lagging = await _report(client, "lagging", admin, **params, min_unexcused=1)
        assert [x["member_id"] for x in lagging["rows"]] == [m4_id]

        # CSV and XLSX carry the same numbers, with Vietnamese headers.
        r = await client.get(
            f"{REPORTS}/attendance", params={**params, "from": month, "format": "csv"},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
        lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        by_label = dict(zip(lines[0], lines[1], strict=True))
        assert by_label["Tổ chức"] == cell["title"] and by_label["Có mặt"] == "2"
        assert by_label["Vắng không lý do"] == "1" and by_label["Tỷ lệ tham dự"] == "0.6"
        r = await client.get(
            f"{REPORTS}/document-reach", params={**params, "format": "xlsx"}, headers=admin
        )
        assert r.status_code == 200, r.text
        sheet = load_workbook(io.BytesIO(r.content)).active
        assert sheet is not None
        table = [list(x) for x in sheet.iter_rows(values_only=True)]
        xlsx_row = dict(zip(table[0], table[1], strict=True))
        assert (xlsx_row["Số đảng viên được gửi"], xlsx_row["Đã học tập"]) == (5, 2)
        assert xlsx_row["Tỷ lệ đã học tập"] == 0.4 and table[-1][0] == "Tổng cộng"

        # ── who sees what ─────────────────────────────────────────────────────────────────
        mine = await _report(client, "document-reach", m1.auth)
        assert mine["scope"] == "self"
        assert [x["member_id"] for x in mine["rows"]] == [m1.member_id]
        r = await client.get(f"{REPORTS}/adoption", params=params, headers=m1.auth)
        assert r.status_code == 404
        demo_district = platform.credentials["orgs"]["district_id"]
        for name in ("document-reach", "attendance", "adoption", "lagging", "meetings"):
            r = await client.get(
                f"{REPORTS}/{name}", params={"org_id": demo_district}, headers=committee
            )
            assert r.status_code == 404, (name, r.text)
        r = await client.get(f"{REPORTS}/attendance", params={"from": "2026-13"}, headers=admin)
        assert r.status_code == 422

    # ── a rebuild from the streams gives the same numbers ──────────────────────────────────
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sotay_analytics.rebuild",
        "--stack", str(platform.data_dir / "stack.json"), "--json",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=240)
    result = json.loads(out)
    assert proc.returncode == 0 and result["equal"], (result.get("differences"), err[-2000:])
    rebuilt_reach = next(v for k, v in result["rebuilt"].items() if k.startswith("document-reach."))
    assert rebuilt_reach["total"]["studied"] >= 2

    # ── the external consumer gets read and attendance events, nothing else ────────────────
    nc = await messaging.connect(platform.nats_url, name="e2e-operator")
    try:
        spec = messaging.external_consumer(f"e2e_{tag}")
        await messaging.provision(nc.jetstream(), [], [spec])
    finally:
        await nc.close()
    secrets = json.loads((platform.data_dir / "secrets.json").read_text())
    password = secrets["nats_passwords"][ANALYTICS_READER_NATS_USER]
    url = _reader_url(platform.nats_url, password)
    info_nc = await messaging.connect(platform.nats_url, name="e2e-operator")
    try:
        pending = (await info_nc.jetstream().consumer_info("PUBLIC", spec.name)).num_pending
    finally:
        await info_nc.close()
    got = await run_example(url, password, spec.name, pending)
    assert {e["nats_subject"] for e in got} <= set(PUBLIC_SUBJECTS)

    def on(subject: str, key: str, value: str) -> list[dict[str, Any]]:
        return [
            e["data"]  # type: ignore[misc]
            for e in got
            if e["nats_subject"] == subject and e["data"][key] == value  # type: ignore[index]
        ]

    reads = on("documents.document.read.v1", "document_id", document_id)
    assert {e["member_id"] for e in reads} == {sec.member_id, m1.member_id, m2.member_id}
    attended = on("meetings.attendance.recorded.v1", "meeting_id", mid)
    assert {e["member_id"]: e["status"] for e in attended} == {
        sec.member_id: "present", m1.member_id: "present", m3.member_id: "late",
    }  # fmt: skip
    assert len(on("meetings.meeting.closed.v1", "meeting_id", mid)) == 1
    assert len(on("documents.document.published.v1", "document_id", document_id)) >= 1
    await assert_reader_refused(url, password)
