"""Study quizzes: authoring (JSON and CSV, bounds, who may), taking them (answers never sent
before submission, only after opening, only in the audience), retries and the best score, the
one documents.quiz.passed.v1, and the study report's passed stage."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from typing import Any

from sotay_contracts.events.documents import QuizPassed

from .test_study import _events_on_nats

CHOICES = ["Phương án một", "Phương án hai", "Phương án ba", "Phương án bốn"]


def questions(n: int = 5) -> list[dict[str, Any]]:
    """``n`` questions; question i's right choice is i % 4."""
    return [
        {"text": f"Câu hỏi số {i + 1} về Nghị quyết?", "choices": CHOICES, "correct": i % 4}
        for i in range(n)
    ]


RIGHT = [i % 4 for i in range(5)]


async def _published(env: Any, resolution: bytes, *orgs: str) -> str:
    doc = await env.upload("admin", resolution, "nq.pdf", title="Nghị quyết cần học")
    await env.publish("admin", doc["id"], *(orgs or ("cell_a1a",)), study_required=True)
    return str(doc["id"])


async def _put(env: Any, doc: str, who: str = "admin", **body: Any) -> Any:
    return await env.client.put(
        f"/api/v1/documents/{doc}/quiz",
        json={"questions": questions(), **body},
        headers=env.auth(who),
    )


async def _csv(env: Any, doc: str, content: bytes, who: str = "admin", **fields: Any) -> Any:
    return await env.client.put(
        f"/api/v1/documents/{doc}/quiz/csv",
        data=fields,
        files={"file": ("cau-hoi.csv", content, "text/csv")},
        headers=env.auth(who),
    )


async def _open(env: Any, doc: str, who: str) -> None:
    r = await env.client.post(
        f"/api/v1/documents/{doc}/reads", json={"progress_percent": 50}, headers=env.auth(who)
    )
    assert r.status_code == 200, r.text


async def _attempt(env: Any, doc: str, who: str, answers: list[int], expect: int = 200) -> Any:
    r = await env.client.post(
        f"/api/v1/documents/{doc}/quiz/attempts", json={"answers": answers}, headers=env.auth(who)
    )
    assert r.status_code == expect, r.text
    return r.json()


async def test_committee_authors_a_quiz_and_members_never_see_its_answers(
    env: Any, resolution: bytes
) -> None:
    doc = await _published(env, resolution)
    put = await _put(env, doc, pass_percent=60)
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["version"] == 1 and body["pass_percent"] == 60 and body["attempted"] is False
    assert [q["correct"] for q in body["questions"]] == RIGHT
    # The author reads it back with its key; a plain member of the audience may not.
    key = await env.client.get(f"/api/v1/documents/{doc}/quiz/key", headers=env.auth("admin"))
    assert key.json()["questions"] == body["questions"]
    member_key = await env.client.get(
        f"/api/v1/documents/{doc}/quiz/key", headers=env.auth("member_a1a_1")
    )
    assert member_key.status_code == 403

    got = await env.client.get(f"/api/v1/documents/{doc}/quiz", headers=env.auth("member_a1a_1"))
    assert got.status_code == 200, got.text
    quiz = got.json()
    assert "correct" not in got.text
    assert quiz["questions"] == [{"text": q["text"], "choices": q["choices"]} for q in questions()]
    assert quiz["mine"] == {
        "attempts": 0,
        "best_score": None,
        "last_score": None,
        "passed": False,
        "passed_at": None,
    }
    assert quiz["opened"] is False
    # Audited, with counts and codes only.
    [entry] = await env.pool.fetch(
        "SELECT actor_id, target, details FROM audit_log WHERE action = 'documents.quiz_set'"
    )
    assert entry["target"] == doc and entry["actor_id"] == env.member_ids["admin"]
    assert entry["details"] == {
        "version": 1,
        "questions": 5,
        "pass_percent": 60,
        "via": "json",
        "replaced": False,
    }


async def test_who_may_author_and_the_bounds_of_a_quiz(env: Any, resolution: bytes) -> None:
    doc = await _published(env, resolution)
    # A secretary of the audience sees the document but does not own it; outside: 404.
    assert (await _put(env, doc, "secretary_a1a")).status_code == 403
    assert (await _put(env, doc, "member_a1a_1")).status_code == 403
    assert (await _put(env, doc, "secretary_b1")).status_code == 404
    assert (await _put(env, doc, version=2)).status_code == 404

    bad_bodies: list[dict[str, Any]] = [
        {"questions": questions(4)},
        {"questions": questions(21)},
        {"questions": questions(), "pass_percent": 0},
        {"questions": questions(), "pass_percent": 101},
        {"questions": [*questions(4), {"text": "Một phương án?", "choices": ["A"], "correct": 0}]},
        {"questions": [*questions(4), {"text": "Bảy?", "choices": list("ABCDEFG"), "correct": 0}]},
        {"questions": [*questions(4), {"text": "Ngoài?", "choices": ["A", "B"], "correct": 2}]},
        {"questions": [*questions(4), {"text": "Trùng?", "choices": ["Có", "có"], "correct": 0}]},
        {
            "questions": [
                *questions(4),
                {"text": "Điều\x00khiển", "choices": ["A", "B"], "correct": 0},
            ]
        },
        {"questions": [*questions(4), {"text": "  ", "choices": ["A", "B"], "correct": 0}]},
        {"questions": questions(), "extra": 1},
    ]
    for bad in bad_bodies:
        r = await env.client.put(
            f"/api/v1/documents/{doc}/quiz", json=bad, headers=env.auth("admin")
        )
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert await env.pool.fetchval("SELECT count(*) FROM quizzes") == 0
    # 20 questions is the most; the texts are stored NFC.
    decomposed = unicodedata.normalize("NFD", "Câu hỏi về Đảng?")
    many = questions(20)
    many[0]["text"] = decomposed
    r = await env.client.put(
        f"/api/v1/documents/{doc}/quiz", json={"questions": many}, headers=env.auth("admin")
    )
    assert r.status_code == 200, r.text
    assert r.json()["questions"][0]["text"] == unicodedata.normalize("NFC", decomposed)
    assert r.json()["pass_percent"] == 80


CSV_OK = (
    "\ufeffcâu hỏi,phương án A,phương án B,phương án C,phương án D,đáp án\r\n"
    '"Nghị quyết số 21 bàn về nội dung gì?","Tổ chức cơ sở đảng",Kinh tế,Quốc phòng,,a\r\n'
    "Câu hỏi 2?,Đúng,Sai,,,B\r\n"
    "\r\n"
    "Câu hỏi 3?,Một,Hai,Ba,Bốn,D\r\n"
    "Câu hỏi 4?,Một,Hai,Ba,,C\r\n"
    "Câu hỏi 5?,Một,Hai,,,A\r\n"
)


async def test_quiz_from_csv_and_its_bad_rows_by_line(env: Any, resolution: bytes) -> None:
    doc = await _published(env, resolution)
    ok = await _csv(env, doc, CSV_OK.encode(), pass_percent="70")
    assert ok.status_code == 200, ok.text
    quiz = ok.json()
    assert quiz["pass_percent"] == 70
    assert quiz["questions"][0] == {
        "text": "Nghị quyết số 21 bàn về nội dung gì?",
        "choices": ["Tổ chức cơ sở đảng", "Kinh tế", "Quốc phòng"],
        "correct": 0,
    }
    assert [len(q["choices"]) for q in quiz["questions"]] == [3, 2, 4, 3, 2]
    assert [q["correct"] for q in quiz["questions"]] == [0, 1, 3, 2, 0]

    # Without BOM, semicolons (Excel), no diacritics in the header, NFD text: NFC stored.
    nfd = unicodedata.normalize("NFD", "Đảng viên?")
    plain = "cau hoi;phuong an A;phuong an B;dap an\n" + "".join(
        f"{nfd} {i};Có;Không;A\n" for i in range(5)
    )
    r = await _csv(env, doc, plain.encode())
    assert r.status_code == 200, r.text
    assert r.json()["questions"][0]["text"] == unicodedata.normalize("NFC", f"{nfd} 0")

    bad = (
        "câu hỏi,phương án A,phương án B,phương án C,phương án D,đáp án\n"
        "Câu tốt 1?,Một,Hai,,,A\n"
        ",Một,Hai,,,A\n"  # line 3: no question
        "Câu 4?,Một,,,,A\n"  # line 4: one choice
        "Câu 5?,Một,Hai,,,C\n"  # line 5: answer names an empty choice
        "Câu 6?,Một,,Ba,,A\n"  # line 6: a gap between choices
        "Câu 7?,Một,Hai,,,A,thừa\n"  # line 7: too many columns
        "Câu 8?,Có,có,,,A\n"  # line 8: duplicate choices
        "Câu tốt 9?,Một,Hai,,,B\n"
    )
    r = await _csv(env, doc, bad.encode())
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"].endswith("/invalid-quiz-file")
    assert [e["line"] for e in problem["errors"]] == [3, 4, 5, 6, 7, 8]
    assert "Thiếu nội dung câu hỏi" in problem["errors"][0]["message"]
    assert "dòng 3, 4, 5, 6, 7, 8" in problem["detail"]

    header_wrong = "question,A,B,answer\nQ?,1,2,A\n"
    r = await _csv(env, doc, header_wrong.encode())
    assert r.status_code == 422 and r.json()["errors"][0]["line"] == 1
    too_few = "câu hỏi,phương án A,phương án B,đáp án\n" + "Câu?,Có,Không,A\n" * 4
    r = await _csv(env, doc, too_few.encode())
    assert r.status_code == 422 and "từ 5 đến 20" in r.json()["detail"]
    latin1 = "câu hỏi,phương án A,phương án B,đáp án\n".encode("latin-1", "replace") + b"\xe2\xff\n"
    r = await _csv(env, doc, latin1)
    assert r.status_code == 422 and "UTF-8" in r.json()["detail"]
    r = await _csv(env, doc, b"")
    assert r.status_code == 422
    r = await _csv(env, doc, CSV_OK.encode(), pass_percent="0")
    assert r.status_code == 422
    r = await _csv(env, doc, CSV_OK.encode(), who="member_a1a_1")
    assert r.status_code == 403
    r = await _csv(env, doc, CSV_OK.encode(), who="member_b1")
    assert r.status_code == 404
    # The failures changed nothing: the second (semicolon) quiz is still there.
    key = await env.client.get(f"/api/v1/documents/{doc}/quiz/key", headers=env.auth("admin"))
    assert key.json()["questions"][0]["choices"] == ["Có", "Không"]


async def test_a_member_takes_the_quiz_after_opening_retries_and_the_best_score_counts(
    env: Any, resolution: bytes
) -> None:
    doc = await _published(env, resolution)
    assert (await _put(env, doc)).status_code == 200
    # Before opening the document: 409, nothing recorded.
    refused = await _attempt(env, doc, "member_a1a_1", RIGHT, expect=409)
    assert refused["type"].endswith("/document-not-opened")
    assert "mở và đọc văn bản" in refused["detail"]
    # Outside the audience: 404 for the quiz and the attempt alike.
    assert (
        await env.client.get(f"/api/v1/documents/{doc}/quiz", headers=env.auth("member_b1"))
    ).status_code == 404
    await _attempt(env, doc, "member_b1", RIGHT, expect=404)

    await _open(env, doc, "member_a1a_1")
    wrong = [(a + 1) % 4 for a in RIGHT]
    first = await _attempt(env, doc, "member_a1a_1", [*RIGHT[:3], *wrong[3:]])
    assert (first["score"], first["passed"]) == (60, False)
    # A failed attempt says the score only: per-question marks would give the key away by
    # elimination over retries.
    assert first["correct"] is None
    assert "correct_choice" not in json.dumps(first) and set(first) == {
        "document_id",
        "version",
        "score",
        "passed",
        "correct",
        "mine",
    }
    assert first["mine"]["attempts"] == 1 and first["mine"]["passed"] is False
    assert first["mine"]["best_score"] == 60
    # Whatever was wrong and how many times: still the score only.
    for answers in ([*wrong[:3], *RIGHT[3:]], wrong, [RIGHT[0], *wrong[1:]]):
        failed = await _attempt(env, doc, "member_a1a_1", answers)
        assert failed["passed"] is False and failed["correct"] is None
    # Bad answers: too few, too many, a choice the question does not have.
    await _attempt(env, doc, "member_a1a_1", RIGHT[:4], expect=422)
    await _attempt(env, doc, "member_a1a_1", [*RIGHT, 0], expect=422)
    await _attempt(env, doc, "member_a1a_1", [*RIGHT[:4], 6], expect=422)
    await _attempt(env, doc, "member_a1a_1", [*RIGHT[:4], -1], expect=422)

    second = await _attempt(env, doc, "member_a1a_1", RIGHT)
    assert (second["score"], second["passed"]) == (100, True)
    assert second["correct"] == [True] * 5  # a pass shows the marks
    third = await _attempt(env, doc, "member_a1a_1", [*RIGHT[:4], wrong[4]])
    assert (third["score"], third["passed"]) == (80, True)
    assert third["correct"] == [True, True, True, True, False]
    assert third["mine"]["attempts"] == 6
    assert third["mine"]["best_score"] == 100 and third["mine"]["last_score"] == 80
    assert third["mine"]["passed_at"] == second["mine"]["passed_at"]

    mine = (
        await env.client.get(f"/api/v1/documents/{doc}/quiz", headers=env.auth("member_a1a_1"))
    ).json()
    assert mine["opened"] is True and "correct" not in json.dumps(mine["questions"])
    assert (mine["mine"]["attempts"], mine["mine"]["best_score"], mine["mine"]["passed"]) == (
        6,
        100,
        True,
    )

    # Passed once: one event, though two attempts passed. It names no answer.
    rows = await env.pool.fetch(
        "SELECT body FROM outbox WHERE subject = 'documents.quiz.passed.v1'"
    )
    assert len(rows) == 1
    [event] = await _events_on_nats(env, "documents.quiz.passed.v1", 1)
    assert isinstance(event, QuizPassed)
    assert str(event.document_id) == doc and event.version == 1
    assert event.member_id == env.member_ids["member_a1a_1"]
    assert event.cell_id == env.org_ids["cell_a1a"] and event.org_path == "1.2.3.4"
    assert event.publication_id is not None
    assert set(json.loads(rows[0]["body"])) == {
        "document_id",
        "version",
        "publication_id",
        "member_id",
        "cell_id",
        "org_path",
        "occurred_at",
    }


async def test_concurrent_passing_attempts_fire_one_event(env: Any, resolution: bytes) -> None:
    doc = await _published(env, resolution)
    assert (await _put(env, doc)).status_code == 200
    await _open(env, doc, "member_a1a_1")
    answers = await asyncio.gather(*(_attempt(env, doc, "member_a1a_1", RIGHT) for _ in range(4)))
    assert all(a["passed"] for a in answers)
    assert sorted(a["mine"]["attempts"] for a in answers) == [1, 2, 3, 4]
    assert (
        await env.pool.fetchval(
            "SELECT count(*) FROM outbox WHERE subject = 'documents.quiz.passed.v1'"
        )
        == 1
    )


async def test_a_quiz_is_replaced_until_the_first_attempt(env: Any, resolution: bytes) -> None:
    doc = await _published(env, resolution)
    assert (await _put(env, doc)).status_code == 200
    replaced = await _put(env, doc, pass_percent=50)
    assert replaced.status_code == 200 and replaced.json()["pass_percent"] == 50
    await _open(env, doc, "member_a1a_2")
    await _attempt(env, doc, "member_a1a_2", [0, 0, 0, 0, 0])
    locked = await _put(env, doc, pass_percent=90)
    assert locked.status_code == 409
    assert locked.json()["type"].endswith("/quiz-locked")
    assert "không thể thay thế" in locked.json()["detail"]
    assert (await _csv(env, doc, CSV_OK.encode())).status_code == 409
    key = await env.client.get(f"/api/v1/documents/{doc}/quiz/key", headers=env.auth("admin"))
    assert key.json()["pass_percent"] == 50 and key.json()["attempted"] is True


async def test_the_study_report_counts_who_passed(env: Any, resolution: bytes) -> None:
    doc = await _published(env, resolution)
    url = f"/api/v1/documents/{doc}/reads"
    params = {"org_id": str(env.org_ids["cell_a1a"])}
    before = (await env.client.get(url, params=params, headers=env.auth("secretary_a1a"))).json()
    assert before["quiz"] is False and before["totals"]["passed"] == 0
    assert (await _put(env, doc)).status_code == 200
    for who in ("member_a1a_1", "member_a1a_2"):
        await _open(env, doc, who)
    await _attempt(env, doc, "member_a1a_1", RIGHT)
    await _attempt(env, doc, "member_a1a_2", [0, 0, 0, 0, 0])
    report = await env.client.get(url, params=params, headers=env.auth("secretary_a1a"))
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["quiz"] is True
    assert body["totals"]["passed"] == 1 and body["totals"]["opened"] == 2
    rows = {i["member_id"]: i for i in body["items"]}
    one = rows[str(env.member_ids["member_a1a_1"])]
    two = rows[str(env.member_ids["member_a1a_2"])]
    assert (one["quiz_best_score"], one["quiz_attempts"]) == (100, 1)
    assert one["quiz_passed_at"] is not None
    assert (two["quiz_best_score"], two["quiz_passed_at"]) == (40, None)
    assert rows[str(env.member_ids["admin"])]["quiz_best_score"] is None
