"""HTTP routes of study quizzes (under ``/api/v1/documents/{id}/quiz``)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
    problem_responses,
)

from ..deps import Now, SourceAddress, State
from ..problems import DocumentNotOpened, EmptyFile, InvalidQuizFile, QuizLocked, QuizNotFound
from ..uploads import parse_fields, receive_form
from . import service
from .schemas import AttemptIn, AttemptOut, QuizCsvFields, QuizIn, QuizKeyOut, QuizOut

router = APIRouter(prefix="/api/v1/documents", tags=["quizzes"])

Version = Annotated[int | None, Query(ge=1, le=100_000, description="Mặc định: phiên bản mới nhất")]


@router.get(
    "/{document_id}/quiz",
    response_model=QuizOut,
    responses=problem_responses(NotFound, QuizNotFound),
)
async def get_quiz(
    document_id: UUID, who: CurrentPrincipal, conn: DbConnection, version: Version = None
) -> QuizOut:
    """Câu hỏi và phương án (không kèm đáp án) cùng kết quả của chính tôi."""
    return await service.get_quiz(conn, who, document_id, version)


@router.post(
    "/{document_id}/quiz/attempts",
    response_model=AttemptOut,
    responses=problem_responses(NotFound, QuizNotFound, DocumentNotOpened, Unprocessable),
)
async def attempt(
    document_id: UUID, body: AttemptIn, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> AttemptOut:
    """Nộp bài: điểm, đạt hay chưa, từng câu đúng/sai (không cho biết đáp án đúng). Được làm
    lại nhiều lần; điểm cao nhất được tính."""
    return await service.attempt(conn, who, document_id, body, now=now)


@router.put(
    "/{document_id}/quiz",
    response_model=QuizKeyOut,
    responses=problem_responses(NotFound, Forbidden, QuizLocked),
)
async def put_quiz(
    document_id: UUID,
    body: QuizIn,
    who: CurrentPrincipal,
    conn: DbConnection,
    now: Now,
    source: SourceAddress,
) -> QuizKeyOut:
    """Soạn (hoặc thay thế, khi chưa ai làm) bài kiểm tra của một phiên bản văn bản."""
    return await service.put_quiz(conn, who, document_id, body, via="json", source=source, now=now)


@router.put(
    "/{document_id}/quiz/csv",
    response_model=QuizKeyOut,
    description=(
        "multipart/form-data: trường tệp `file` (CSV, UTF-8, có hoặc không BOM; dòng đầu "
        f"«{service.CSV_HEADER}», 2–6 cột phương án; đáp án là chữ cái), `version` và "
        "`pass_percent` (tùy chọn). Mỗi dòng sai được báo kèm số dòng."
    ),
    responses=problem_responses(
        NotFound,
        Forbidden,
        QuizLocked,
        InvalidQuizFile,
        BadRequest,
        PayloadTooLarge,
        UnsupportedMediaType,
        EmptyFile,
    ),
)
async def put_quiz_csv(
    document_id: UUID,
    request: Request,
    who: CurrentPrincipal,
    state: State,
    now: Now,
    source: SourceAddress,
) -> QuizKeyOut:
    await service.authorize_authoring(state.pool, who, document_id)
    async with receive_form(request, service.MAX_CSV_BYTES) as (fields, received):
        meta = parse_fields(QuizCsvFields, fields)
        questions = service.parse_csv(received.file.read())
    body = QuizIn(version=meta.version, pass_percent=meta.pass_percent, questions=questions)
    async with state.pool.acquire() as conn, conn.transaction():
        return await service.put_quiz(
            conn, who, document_id, body, via="csv", source=source, now=now
        )


@router.get(
    "/{document_id}/quiz/key",
    response_model=QuizKeyOut,
    responses=problem_responses(NotFound, QuizNotFound, Forbidden),
)
async def answer_key(
    document_id: UUID, who: CurrentPrincipal, conn: DbConnection, version: Version = None
) -> QuizKeyOut:
    """Bài kiểm tra kèm đáp án, cho người soạn (tổ chức sở hữu văn bản)."""
    return await service.answer_key(conn, who, document_id, version)
