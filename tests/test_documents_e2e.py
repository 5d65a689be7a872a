"""Documents through the gateway with the demo province (issue 4's acceptance path): the
province's admin uploads a PDF resolution and publishes it as required study to the district
that holds the demo cell; the demo member finds it in their list, searches it without
diacritics, downloads the same bytes and marks it studied; a member of another district sees
nothing of it; the cell's secretary sees who has and hasn't studied it; the read event is on
NATS as a valid CloudEvent without personal data."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sotay_contracts.events.documents import DocumentPublished, DocumentRead, ReadState

from .conftest import (
    Platform,
    a_cell_outside,
    all_pages,
    events_on_nats,
    find_on_nats,
    make_pdf,
    new_member,
    wait_until,
)

pytestmark = pytest.mark.e2e

NUMBER = "47-NQ/TU"
TITLE = "Nghị quyết số 47-NQ/TU về xây dựng chi bộ trong sạch, vững mạnh"
PDF_LINES = [
    "ĐẢNG BỘ TỈNH THANH SƠN",
    "Nghị quyết số 47-NQ/TU",
    "về nâng cao chất lượng sinh hoạt chi bộ, xây dựng chi bộ trong sạch, vững mạnh",
    "Các chi bộ tổ chức học tập, quán triệt đến từng đảng viên trước hạn quy định.",
]


async def _ids(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    r = await client.get("/api/v1/documents", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return [d["id"] for d in r.json()["items"]]


async def test_resolution_published_to_a_district_is_studied_and_reported(
    platform: Platform,
) -> None:
    orgs = platform.credentials["orgs"]
    district_id, cell_id = orgs["district_id"], orgs["cell_id"]
    demo_member = platform.credentials["member"]
    admin = await platform.auth("admin")
    secretary = await platform.auth("secretary")
    member = await platform.auth("member")
    pdf = make_pdf(PDF_LINES)
    deadline = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)

    async with platform.client() as client:
        # 1. The province's admin uploads the resolution (internal, typed by its content).
        r = await client.post(
            "/api/v1/documents",
            data={
                "title": TITLE,
                "kind": "resolution",
                "number": NUMBER,
                "issuer": "Ban Thường vụ Tỉnh ủy Thanh Sơn",
                "issued_on": "2026-03-02",
                "summary": "Nâng cao chất lượng sinh hoạt chi bộ",
                "classification": "internal",
                "tags": "sinh hoạt chi bộ,xây dựng đảng",
                "org_id": orgs["province_id"],
            },
            files={"file": ("nq-47-tu.pdf", pdf, "application/pdf")},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        doc = r.json()
        doc_id = doc["id"]
        [v1] = doc["versions"]
        assert v1["sha256"] == hashlib.sha256(pdf).hexdigest()
        assert v1["size"] == len(pdf) and v1["content_type"] == "application/pdf"
        assert doc["publications"] == [] and doc["classification"] == "internal"

        # The audience is counted from the service's projection of identity: wait until it
        # holds every member identity lists in the district (it may lag just after start-up).
        report_url = f"/api/v1/documents/{doc_id}/reads"
        roll = await all_pages(client, f"/api/v1/orgs/{district_id}/members", admin)
        district_members = {m["id"] for m in roll}
        assert demo_member["member_id"] in district_members

        async def district_projected() -> bool:
            items = await all_pages(client, report_url, admin, {"org_id": district_id})
            return {i["member_id"] for i in items} == district_members

        await wait_until(district_projected, "the district's members in the documents service")

        # 2. Published as required study, with a deadline, to the district subtree that holds
        #    the demo cell; the audience is the district's members.
        r = await client.post(
            f"/api/v1/documents/{doc_id}/publish",
            json={
                "org_ids": [district_id],
                "study_required": True,
                "study_deadline": deadline.isoformat(),
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
        publication = r.json()
        assert publication["org_ids"] == [district_id]
        assert publication["study_required"] is True
        assert datetime.fromisoformat(publication["study_deadline"]) == deadline
        assert publication["audience_size"] == len(district_members)

        # 3. The demo member (a cell inside the district) sees it in their list and to-study.
        r = await client.get("/api/v1/documents", headers=member)
        assert r.status_code == 200, r.text
        mine = {d["id"]: d for d in r.json()["items"]}
        assert doc_id in mine
        assert mine[doc_id]["title"] == TITLE and mine[doc_id]["number"] == NUMBER
        assert mine[doc_id]["studied"] is False
        assert datetime.fromisoformat(mine[doc_id]["study_deadline"]) == deadline
        assert doc_id in await _ids(client, member, to_study="true")
        to_study = await all_pages(client, "/api/v1/documents/to-study", member)
        [item] = [i for i in to_study if i["document_id"] == doc_id]
        assert item["publication_id"] == publication["id"] and item["overdue"] is False

        # 4. … and finds it by searching without diacritics, by number, or with them.
        for query in ("nghi quyet 47", "nghi quyet so 47 nq tu", "47-NQ/TU", "Nghị quyết 47"):
            found = await _ids(client, member, q=query)
            assert found and found[0] == doc_id, (query, found)
        assert doc_id not in await _ids(client, member, q="nghi quyet 4711")

        # 5. The download URL gives the very bytes uploaded.
        r = await client.get(f"/api/v1/documents/{doc_id}/file", headers=member)
        assert r.status_code == 200, r.text
        link = r.json()
        assert link["sha256"] == v1["sha256"] and link["size"] == len(pdf)
        assert datetime.fromisoformat(link["expires_at"]) <= datetime.now(UTC) + timedelta(
            minutes=6
        )
        # Signed for the gateway, which routes the bucket to S3: same origin as the app, so the
        # app may fetch the file and keep it offline.
        url = httpx.URL(link["url"])
        assert f"{url.scheme}://{url.netloc.decode()}" == platform.gateway
        assert url.path.startswith("/sotay-documents/")
        async with httpx.AsyncClient(timeout=30) as s3:
            got = await s3.get(link["url"])
            # The signature (and so the expiry it covers) is still S3's to check.
            forged = url.copy_set_param("X-Amz-Expires", "3600")
            refused = await s3.get(forged)
            upload = await s3.put(link["url"], content=b"x")
        assert got.status_code == 200
        assert got.content == pdf
        assert got.headers["content-type"] == "application/pdf"
        assert "content-security-policy" not in got.headers  # a file, not one of the app's pages
        assert got.headers["x-content-type-options"] == "nosniff"
        assert refused.status_code == 403
        assert upload.status_code == 405

        # 6. The member reads it, then marks it studied.
        r = await client.post(
            f"/api/v1/documents/{doc_id}/reads", json={"progress_percent": 40}, headers=member
        )
        assert r.status_code == 200, r.text
        assert r.json()["progress_percent"] == 40 and r.json()["studied_at"] is None
        r = await client.post(
            f"/api/v1/documents/{doc_id}/reads", json={"studied": True}, headers=member
        )
        assert r.status_code == 200, r.text
        studied = r.json()
        assert studied["progress_percent"] == 100 and studied["studied_at"] is not None
        r = await client.get(f"/api/v1/documents/{doc_id}", headers=member)
        assert r.status_code == 200, r.text
        assert r.json()["my_read"]["studied_at"] == studied["studied_at"]
        assert doc_id not in await _ids(client, member, to_study="true")

        # 7. A member of a cell in another district sees nothing of it.
        other_cell = await a_cell_outside(platform, client, district_id)
        outsider = await new_member(platform, client, other_cell["id"], "Trần Thị Ngoài Huyện")
        assert doc_id not in await _ids(client, outsider.auth)
        assert doc_id not in await _ids(client, outsider.auth, q="nghi quyet 47")
        for path in ("", "/file"):
            r = await client.get(f"/api/v1/documents/{doc_id}{path}", headers=outsider.auth)
            assert r.status_code == 404, (path, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
        r = await client.post(
            f"/api/v1/documents/{doc_id}/reads", json={"studied": True}, headers=outsider.auth
        )
        assert r.status_code == 404, r.text
        to_study = await all_pages(client, "/api/v1/documents/to-study", outsider.auth)
        assert doc_id not in {i["document_id"] for i in to_study}

        # 8. The cell's secretary sees, for every member of the cell, who has studied it and
        #    who hasn't (names come from identity; the report carries ids only).
        on_roll = await all_pages(client, f"/api/v1/orgs/{cell_id}/members", secretary)
        cell_members = {m["id"] for m in on_roll if m["status"] == "active"}
        assert demo_member["member_id"] in cell_members
        items: list[dict[str, Any]] = []

        async def reported_whole_cell() -> bool:
            # The documents service knows the cell's members from its identity projection.
            items[:] = await all_pages(client, report_url, secretary, {"org_id": cell_id})
            return {i["member_id"] for i in items} >= cell_members

        await wait_until(reported_whole_cell, "the cell's members in the study report")
        status = {i["member_id"]: i["status"] for i in items}
        assert len(status) == len(items)
        assert status[demo_member["member_id"]] == "studied"
        assert status[platform.credentials["secretary"]["member_id"]] == "not_opened"
        assert {s for m, s in status.items() if m != demo_member["member_id"]} == {"not_opened"}
        r = await client.get(report_url, params={"org_id": cell_id}, headers=secretary)
        totals = r.json()["totals"]
        assert totals["members"] == len(status)
        assert totals["studied"] == 1 and totals["not_opened"] == len(status) - 1
        assert totals["opened"] == 0 and totals["overdue"] == 0
        r = await client.get(
            report_url, params={"org_id": cell_id, "status": "studied"}, headers=secretary
        )
        assert [i["member_id"] for i in r.json()["items"]] == [demo_member["member_id"]]
        # The district is above the secretary's cell: not theirs to report on.
        r = await client.get(report_url, params={"org_id": district_id}, headers=secretary)
        assert r.status_code == 404, r.text
        r = await client.get(report_url, params={"org_id": cell_id}, headers=member)
        assert r.status_code in (403, 404), r.text

    # 9. The publication and the member's study are on NATS as valid CloudEvents, with ids,
    #    org paths and facts only: no names, no card numbers.
    ce, published = await find_on_nats(platform, "documents.document.published.v1", doc_id)
    assert isinstance(published, DocumentPublished)
    assert str(published.publication_id) == publication["id"]
    assert [str(o) for o in published.audience_org_ids] == [district_id]
    assert published.audience_size == publication["audience_size"]
    assert published.study_required is True

    [(ce, read)] = await events_on_nats(
        platform,
        "documents.document.read.v1",
        lambda ce, e: ce.subject == doc_id and e.state is ReadState.STUDIED,  # type: ignore[attr-defined]
    )
    assert isinstance(read, DocumentRead)
    assert str(read.member_id) == demo_member["member_id"]
    assert str(read.cell_id) == cell_id
    assert read.progress_percent == 100
    assert str(read.publication_id) == publication["id"]
    data = json.loads(ce.data)
    assert set(data) == {
        "document_id",
        "version",
        "publication_id",
        "member_id",
        "cell_id",
        "org_path",
        "state",
        "progress_percent",
        "occurred_at",
    }
    for personal in (demo_member["full_name"], demo_member["username"]):
        assert personal.encode() not in ce.data
        assert json.dumps(personal)[1:-1].encode() not in ce.data  # nor \u-escaped
