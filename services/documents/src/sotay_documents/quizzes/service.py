"""Use cases of study quizzes: a committee authors the quiz of a document version (JSON or
CSV), a member in the audience takes it after opening the version — as often as they like, the
best score counts — and the first pass fires ``documents.quiz.passed.v1``.

The answer key never leaves the service except to the quiz's authors; an attempt's answer says
only which of the member's answers were right, so a retry stays a test."""

from __future__ import annotations

import csv
import io
import logging
import uuid
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sotay_contracts.events.documents import QuizPassed
from sotay_kit import audit, outbox
from sotay_kit.auth import Principal
from sotay_kit.db import Connection, Pool
from sotay_kit.errors import Forbidden, NotFound, Unprocessable
from sotay_kit.text import fold, has_control, nfc

from ..access import PUBLISHER_ROLES, Scope
from ..library import repository as library_repo
from ..library.service import visible_or_404
from ..problems import DocumentNotOpened, InvalidQuizFile, QuizLocked, QuizNotFound
from ..study import repository as study_repo
from . import repository as repo
from .schemas import (
    MAX_CHOICES,
    MAX_QUESTIONS,
    MIN_CHOICES,
    MIN_QUESTIONS,
    AttemptIn,
    AttemptOut,
    AuthoredQuestion,
    MyQuizResult,
    QuestionIn,
    QuestionOut,
    QuizIn,
    QuizKeyOut,
    QuizOut,
)

log = logging.getLogger("sotay.documents")

DOCUMENT_NOT_FOUND = "Không tìm thấy văn bản"
VERSION_NOT_FOUND = "Không tìm thấy phiên bản này của văn bản"
QUIZ_NOT_FOUND = "Văn bản này chưa có bài kiểm tra"
MAX_CSV_BYTES = 256 * 1024


# -- authoring --------------------------------------------------------------------------------


async def _authorized(conn: Connection, who: Principal, document_id: uuid.UUID) -> Any:
    """The document, when the caller may author its quizzes: those who may add versions to it
    (the owner org's committee, secretaries, admins). 404 when they cannot see it, 403 when
    they see it but may not edit it."""
    doc = await visible_or_404(conn, who, document_id)
    if not who.can(PUBLISHER_ROLES, doc["owner_org_path"]):
        raise Forbidden("Chỉ tổ chức sở hữu văn bản được soạn bài kiểm tra")
    return doc


async def authorize_authoring(pool: Pool, who: Principal, document_id: uuid.UUID) -> None:
    """Checked before a CSV is received: an outsider learns nothing from its rows."""
    async with pool.acquire() as conn:
        await _authorized(conn, who, document_id)


async def _authored_version(
    conn: Connection, who: Principal, document_id: uuid.UUID, version: int | None
) -> int:
    doc = await _authorized(conn, who, document_id)
    number = version or doc["current_version"]
    if await library_repo.version(conn, document_id, number) is None:
        raise NotFound(VERSION_NOT_FOUND)
    return int(number)


def _key_out(row: Any) -> QuizKeyOut:
    return QuizKeyOut(
        document_id=row["document_id"],
        version=row["version"],
        pass_percent=row["pass_percent"],
        questions=[AuthoredQuestion(**q) for q in repo.questions(row)],
        authored_at=row["authored_at"],
        attempted=row["attempted"],
    )


async def put_quiz(
    conn: Connection,
    who: Principal,
    document_id: uuid.UUID,
    body: QuizIn,
    *,
    via: str,
    source: str | None,
    now: datetime,
) -> QuizKeyOut:
    """Set (or replace, until the first attempt) the quiz of a version; audited."""
    version = await _authored_version(conn, who, document_id, body.version)
    existing = await repo.quiz(conn, document_id, version, lock="FOR UPDATE")
    # Asked again once the row is locked: a statement that waited for the lock still sees the
    # snapshot it started with, and so might miss an attempt committed meanwhile.
    if existing is not None and await repo.attempted(conn, document_id, version):
        raise QuizLocked(
            "Đã có đảng viên làm bài kiểm tra này nên không thể thay thế; "
            "hãy tải lên phiên bản mới của văn bản nếu cần bài kiểm tra khác"
        )
    await repo.put_quiz(
        conn,
        document_id,
        version,
        questions=[q.model_dump() for q in body.questions],
        pass_percent=body.pass_percent,
        by=who.member_id,
        at=now,
    )
    await audit.record(
        conn,
        "documents.quiz_set",
        actor_id=who.member_id,
        target=str(document_id),
        source=source,
        details={
            "version": version,
            "questions": len(body.questions),
            "pass_percent": body.pass_percent,
            "via": via,
            "replaced": existing is not None,
        },
    )
    log.info(
        "quiz set",
        extra={"document_id": str(document_id), "version": version, "via": via},
    )
    row = await repo.quiz(conn, document_id, version)
    assert row is not None
    return _key_out(row)


async def answer_key(
    conn: Connection, who: Principal, document_id: uuid.UUID, version: int | None
) -> QuizKeyOut:
    number = await _authored_version(conn, who, document_id, version)
    row = await repo.quiz(conn, document_id, number)
    if row is None:
        raise QuizNotFound(QUIZ_NOT_FOUND)
    return _key_out(row)


# The CSV: a header row naming the columns (diacritics and case do not matter), then one
# question per row; the answer is the letter of the right choice. UTF-8, with or without BOM;
# comma or semicolon separated (Excel in a Vietnamese locale writes semicolons).
CSV_HEADER = "câu hỏi,phương án A,phương án B,phương án C,phương án D,đáp án"
_LETTERS = "ABCDEF"


def _csv_rows(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidQuizFile("Tệp phải là văn bản CSV mã hóa UTF-8") from None
    if "\x00" in text:
        raise InvalidQuizFile("Tệp phải là văn bản CSV mã hóa UTF-8")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = cells
            else:
                rows.append((reader.line_num, cells))
    except csv.Error:
        raise InvalidQuizFile(
            f"Dòng {reader.line_num}: không đọc được (dấu ngoặc kép không khớp?)"
        ) from None
    if header is None:
        raise InvalidQuizFile(f"Tệp không có dòng tiêu đề; dòng đầu cần là: {CSV_HEADER}")
    return header, rows


def _choice_columns(header: list[str]) -> int:
    names = [fold(nfc(h)) for h in header]
    choices = len(names) - 2
    expected = ["cau hoi", *(f"phuong an {c.lower()}" for c in _LETTERS[:choices]), "dap an"]
    if not MIN_CHOICES <= choices <= MAX_CHOICES or names != expected:
        raise InvalidQuizFile(
            f"Dòng 1: tiêu đề cần là «{CSV_HEADER}» (2–6 cột phương án, A đến F)",
            extensions={"errors": [{"line": 1, "message": "Tiêu đề cột không đúng mẫu"}]},
        )
    return choices


def _csv_question(cells: list[str], choices: int) -> QuestionIn | str:
    """The row as a question, or what is wrong with it (in Vietnamese)."""
    if len(cells) > choices + 2:
        return f"Dòng có {len(cells)} cột, nhiều hơn {choices + 2} cột của tiêu đề"
    cells = [nfc(c) for c in cells] + [""] * (choices + 2 - len(cells))
    text, options, answer = cells[0], cells[1 : choices + 1], cells[-1]
    if not text:
        return "Thiếu nội dung câu hỏi"
    if any(has_control(c, allowed="\t\n\r") for c in cells):
        return "Có ký tự điều khiển"
    filled = [c for c in options if c]
    if filled != options[: len(filled)]:
        return "Các phương án phải liền nhau, bắt đầu từ A (không để trống ở giữa)"
    if len(filled) < MIN_CHOICES:
        return "Cần ít nhất 2 phương án"
    letter = answer.upper()
    if len(letter) != 1 or letter not in _LETTERS[: len(filled)]:
        return f"Đáp án phải là một chữ cái từ A đến {_LETTERS[len(filled) - 1]}"
    try:
        return QuestionIn(text=text, choices=filled, correct=_LETTERS.index(letter))
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        if error["type"].startswith("quiz_"):
            return str(error["msg"])
        if error["type"] == "string_too_long":
            return "Câu hỏi hoặc phương án quá dài (câu hỏi tối đa 1000, phương án 500 ký tự)"
        return "Câu hỏi không hợp lệ"


def parse_csv(data: bytes) -> list[QuestionIn]:
    """The questions of a quiz CSV; every bad row is reported with its line number."""
    header, rows = _csv_rows(data)
    choices = _choice_columns(header)
    questions: list[QuestionIn] = []
    errors: list[dict[str, Any]] = []
    for line, cells in rows:
        parsed = _csv_question(cells, choices)
        if isinstance(parsed, str):
            errors.append({"line": line, "message": parsed})
        else:
            questions.append(parsed)
    if errors:
        lines = ", ".join(str(e["line"]) for e in errors[:10])
        raise InvalidQuizFile(
            f"Có {len(errors)} dòng không hợp lệ (dòng {lines}{'…' if len(errors) > 10 else ''})",
            extensions={"errors": errors[:100]},
        )
    if not MIN_QUESTIONS <= len(questions) <= MAX_QUESTIONS:
        raise InvalidQuizFile(
            f"Bài kiểm tra cần từ {MIN_QUESTIONS} đến {MAX_QUESTIONS} câu hỏi, "
            f"tệp có {len(questions)} câu"
        )
    return questions


# -- taking the quiz --------------------------------------------------------------------------


async def _member_target(
    conn: Connection, who: Principal, document_id: uuid.UUID, version: int | None
) -> Any:
    """Visibility, version and publication exactly as a progress post finds them (the study
    routes' audience); 404 outside it."""
    if who.cell_id is None or who.org_path is None:
        raise NotFound(DOCUMENT_NOT_FOUND)
    scope = Scope.of(who)
    target = await study_repo.reading_target(
        conn, document_id, version, scope.ancestors, scope.publisher_roots
    )
    if target is None:
        raise NotFound(DOCUMENT_NOT_FOUND)
    if target["version"] is None:
        raise NotFound(VERSION_NOT_FOUND)
    return target


def _mine(row: Any) -> MyQuizResult:
    if row is None:
        return MyQuizResult(
            attempts=0, best_score=None, last_score=None, passed=False, passed_at=None
        )
    return MyQuizResult(
        attempts=row["attempts"],
        best_score=row["best_score"],
        last_score=row["last_score"],
        passed=row["passed_at"] is not None,
        passed_at=row["passed_at"],
    )


async def get_quiz(
    conn: Connection, who: Principal, document_id: uuid.UUID, version: int | None
) -> QuizOut:
    target = await _member_target(conn, who, document_id, version)
    number = target["version"]
    row = await repo.quiz(conn, document_id, number)
    if row is None:
        raise QuizNotFound(QUIZ_NOT_FOUND)
    return QuizOut(
        document_id=document_id,
        version=number,
        pass_percent=row["pass_percent"],
        # The answer key stays here: only text and choices go out.
        questions=[QuestionOut(text=q["text"], choices=q["choices"]) for q in repo.questions(row)],
        mine=_mine(await repo.my_result(conn, document_id, number, who.member_id)),
        opened=await repo.opened(conn, document_id, number, who.member_id),
    )


def score_percent(right: int, total: int) -> int:
    """Per cent of right answers, rounded half up (4 of 6 → 67)."""
    return (200 * right + total) // (2 * total)


async def attempt(
    conn: Connection, who: Principal, document_id: uuid.UUID, body: AttemptIn, *, now: datetime
) -> AttemptOut:
    target = await _member_target(conn, who, document_id, body.version)
    assert who.cell_id is not None and who.org_path is not None
    number = target["version"]
    # FOR SHARE: a replacement of the quiz waits for this attempt, then sees it and refuses.
    row = await repo.quiz(conn, document_id, number, lock="FOR SHARE")
    if row is None:
        raise QuizNotFound(QUIZ_NOT_FOUND)
    if not await repo.opened(conn, document_id, number, who.member_id):
        raise DocumentNotOpened("Hãy mở và đọc văn bản trước khi làm bài kiểm tra")
    questions = repo.questions(row)
    if len(body.answers) != len(questions):
        raise Unprocessable(
            f"Cần trả lời đủ {len(questions)} câu hỏi (đã gửi {len(body.answers)})",
            extensions={"questions": len(questions)},
        )
    for i, (answer, q) in enumerate(zip(body.answers, questions, strict=True), start=1):
        if answer >= len(q["choices"]):
            raise Unprocessable(f"Câu {i} chỉ có {len(q['choices'])} phương án")
    correct = [a == q["correct"] for a, q in zip(body.answers, questions, strict=True)]
    score = score_percent(sum(correct), len(questions))
    passed = score >= row["pass_percent"]
    result = await repo.record_attempt(
        conn,
        document_id=document_id,
        version=number,
        member_id=who.member_id,
        cell_id=who.cell_id,
        org_path=who.org_path,
        score=score,
        passed=passed,
        at=now,
    )
    if passed and result["old_passed_at"] is None:
        await outbox.enqueue(
            conn,
            QuizPassed(
                document_id=document_id,
                version=number,
                publication_id=target["publication_id"],
                member_id=who.member_id,
                cell_id=who.cell_id,
                org_path=who.org_path,
                occurred_at=now,
            ),
        )
    return AttemptOut(
        document_id=document_id,
        version=number,
        score=score,
        passed=passed,
        # Marks per question only for a passing attempt: with unlimited retries, marks on a
        # failed one would let a member find the key by elimination before passing.
        correct=correct if passed else None,
        mine=_mine(result),
    )
