"""Study quizzes through the gateway with the demo province (issue 15, item 4): the province's
admin publishes a resolution for study to a new district and attaches a quiz as CSV; members
of the district take it (never seeing the answers first; not before opening it; retrying until
they pass), a member elsewhere sees nothing of it; the first pass is on NATS as a valid
CloudEvent without personal data, and analytics' reach funnel shows sent → opened → studied →
passed."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sotay_contracts.events.documents import QuizPassed

from .conftest import Platform, events_on_nats, make_pdf, new_member, wait_until

pytestmark = pytest.mark.e2e

QUIZ_CSV = (
    "\ufeffcâu hỏi,phương án A,phương án B,phương án C,đáp án\r\n"
    "Nghị quyết giao nhiệm vụ cho ai?,Các chi bộ,Ủy ban xã,Hội nông dân,A\r\n"
    "Sinh hoạt chi bộ thường kỳ mấy tháng một lần?,Một tháng,Ba tháng,Sáu tháng,A\r\n"
    "Ai chủ trì sinh hoạt chi bộ?,Đảng viên mới,Bí thư chi bộ,Khách mời,B\r\n"
    "Học tập nghị quyết trước hạn nào?,Không có hạn,Hạn cấp ủy giao,Cuối nhiệm kỳ,B\r\n"
    "Đảng viên tự học bằng gì?,Sổ tay điện tử,Không cần học,Chỉ nghe kể,A\r\n"
)
RIGHT = [0, 0, 1, 1, 0]


async def _attempt(
    client: httpx.AsyncClient, doc: str, auth: dict[str, str], answers: list[int]
) -> httpx.Response:
    return await client.post(
        f"/api/v1/documents/{doc}/quiz/attempts", json={"answers": answers}, headers=auth
    )


async def test_a_quiz_taken_and_shown_in_the_reach_funnel(platform: Platform) -> None:
    admin = await platform.auth("admin")
    province_id = platform.credentials["orgs"]["province_id"]
    tag = uuid.uuid4().hex[:6]
    async with platform.client() as client:
        r = await client.post(
            "/api/v1/orgs",
            json={"parent_id": province_id, "title": f"Đảng bộ huyện Kiểm Tra {tag}",
                  "kind": "district"},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        district = r.json()
        r = await client.post(
            "/api/v1/orgs",
            json={"parent_id": district["id"], "title": f"Chi bộ Thôn Học {tag}",
                  "kind": "grassroots_cell"},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        cell = r.json()
        m1 = await new_member(platform, client, cell["id"], "Nguyễn Văn Học")
        m2 = await new_member(platform, client, cell["id"], "Trần Thị Thi")
        m3 = await new_member(platform, client, cell["id"], "Lê Văn Chưa")

        r = await client.post(
            "/api/v1/documents",
            data={"title": f"Nghị quyết có bài kiểm tra {tag}", "kind": "resolution",
                  "classification": "internal", "org_id": district["id"]},
            files={"file": ("nq.pdf", make_pdf(["Nghị quyết", "Học tập và kiểm tra"]),
                            "application/pdf")},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        doc = r.json()["id"]

        async def publish() -> bool:  # documents' identity projection may be catching up
            r = await client.post(
                f"/api/v1/documents/{doc}/publish",
                json={"org_ids": [district["id"]], "study_required": True},
                headers=admin,
            )
            if r.status_code == 201 and r.json()["audience_size"] == 3:
                return True
            assert r.status_code in (201, 404, 422), r.text
            if r.status_code == 201:
                await client.post(f"/api/v1/documents/{doc}/retract", headers=admin)
            return False

        await wait_until(publish, "the district's three members in the audience")

        # The committee attaches the quiz as CSV; a member may not.
        r = await client.put(
            f"/api/v1/documents/{doc}/quiz/csv",
            data={"pass_percent": "80"},
            files={"file": ("bai-kiem-tra.csv", QUIZ_CSV.encode(), "text/csv")},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        assert [q["correct"] for q in r.json()["questions"]] == RIGHT
        r = await client.put(
            f"/api/v1/documents/{doc}/quiz/csv",
            files={"file": ("x.csv", QUIZ_CSV.encode(), "text/csv")},
            headers=m1.auth,
        )
        assert r.status_code == 403, r.text

        # The member's quiz has no answer key; outside the audience there is no quiz at all.
        r = await client.get(f"/api/v1/documents/{doc}/quiz", headers=m1.auth)
        assert r.status_code == 200, r.text
        assert "correct" not in r.text and len(r.json()["questions"]) == 5
        outsider = await platform.auth("member")
        r = await client.get(f"/api/v1/documents/{doc}/quiz", headers=outsider)
        assert r.status_code == 404, r.text
        r = await _attempt(client, doc, outsider, RIGHT)
        assert r.status_code == 404, r.text
        # Not before opening the document.
        r = await _attempt(client, doc, m1.auth, RIGHT)
        assert r.status_code == 409, r.text
        assert r.headers["content-type"] == "application/problem+json"

        for who, body in ((m1, {"studied": True}), (m2, {"progress_percent": 40})):
            r = await client.post(f"/api/v1/documents/{doc}/reads", json=body, headers=who.auth)
            assert r.status_code == 200, r.text
        r = await _attempt(client, doc, m1.auth, [1, 1, 1, 1, 0])
        assert r.status_code == 200, r.text
        first: dict[str, Any] = r.json()
        assert (first["score"], first["passed"]) == (60, False)
        assert first["correct"] is None  # no marks on a failed attempt: no key by elimination
        r = await _attempt(client, doc, m1.auth, RIGHT)
        assert (r.json()["score"], r.json()["passed"], r.json()["mine"]["attempts"]) == (
            100,
            True,
            2,
        )
        assert r.json()["correct"] == [True] * 5
        r = await _attempt(client, doc, m2.auth, [0, 0, 1, 1, 1])
        assert (r.json()["score"], r.json()["passed"]) == (80, True)
        r = await _attempt(client, doc, m2.auth, RIGHT)  # a better score; no second event
        assert r.json()["mine"]["best_score"] == 100

        # The study report in documents: 2 of 3 passed, m3 never took it.
        r = await client.get(
            f"/api/v1/documents/{doc}/reads", params={"org_id": cell["id"]}, headers=admin
        )
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["quiz"] is True and report["totals"]["passed"] == 2
        scores = {i["member_id"]: i["quiz_best_score"] for i in report["items"]}
        assert scores == {m1.member_id: 100, m2.member_id: 100, m3.member_id: None}

    # The first pass of each, on NATS: valid CloudEvents with ids only, no score.
    found = await events_on_nats(
        platform, "documents.quiz.passed.v1", lambda ce, _: ce.subject == doc, count=2
    )
    assert sorted(str(e.member_id) for _, e in found) == sorted([m1.member_id, m2.member_id])
    for ce, event in found:
        assert isinstance(event, QuizPassed)
        assert str(event.cell_id) == cell["id"] and event.version == 1
        assert set(json.loads(ce.data)) == {
            "document_id", "version", "publication_id", "member_id", "cell_id", "org_path",
            "occurred_at",
        }  # fmt: skip
        for personal in (m1.full_name, m2.full_name, m1.card_number, m2.card_number):
            assert personal.encode() not in ce.data
            assert json.dumps(personal)[1:-1].encode() not in ce.data

    # Analytics' reach funnel for the district: sent 3 → opened 2 → studied 1 → passed 2.
    async with platform.client() as client:

        async def funnel() -> dict[str, Any] | None:
            r = await client.get(
                "/api/v1/reports/document-reach",
                params={"org_id": district["id"], "document_id": doc},
                headers=admin,
            )
            assert r.status_code == 200, r.text
            total: dict[str, Any] = r.json()["total"]
            return total if total["passed"] == 2 else None

        async def caught_up() -> bool:
            return await funnel() is not None

        await wait_until(caught_up, "analytics to apply the passes", timeout=60)
        total = await funnel()
        assert total is not None
        assert (total["audience"], total["opened"], total["studied"], total["passed"]) == (
            3,
            2,
            1,
            2,
        )
        assert total["passed_ratio"] == pytest.approx(2 / 3, abs=1e-4)
        r = await client.get(
            "/api/v1/reports/document-reach",
            params={"org_id": district["id"], "document_id": doc, "format": "csv"},
            headers=admin,
        )
        assert r.status_code == 200
        header = r.content.decode("utf-8-sig").splitlines()[0]
        assert "Đã đạt bài kiểm tra" in header and "Tỷ lệ đạt bài kiểm tra" in header
