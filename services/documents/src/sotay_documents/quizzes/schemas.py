"""API models of study quizzes: the author's quiz (with its answer key), the member's view of
it (never the answer key), an attempt and its result."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError
from sotay_kit.text import NoControlMultiline, nfc

MIN_QUESTIONS, MAX_QUESTIONS = 5, 20
MIN_CHOICES, MAX_CHOICES = 2, 6
DEFAULT_PASS_PERCENT = 80


def _nfc(value: object) -> object:
    return nfc(value) if isinstance(value, str) else value


QuestionText = Annotated[
    str, BeforeValidator(_nfc), Field(min_length=1, max_length=1000), NoControlMultiline
]
ChoiceText = Annotated[
    str, BeforeValidator(_nfc), Field(min_length=1, max_length=500), NoControlMultiline
]
PassPercent = Annotated[
    int, Field(ge=1, le=100, description="Điểm đạt (phần trăm câu đúng), mặc định 80")
]


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: QuestionText
    choices: list[ChoiceText] = Field(min_length=MIN_CHOICES, max_length=MAX_CHOICES)
    correct: int = Field(ge=0, lt=MAX_CHOICES, description="Số thứ tự phương án đúng, từ 0")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.correct >= len(self.choices):
            raise PydanticCustomError(
                "quiz_correct_choice", "Đáp án đúng phải là một trong các phương án"
            )
        if len({c.casefold() for c in self.choices}) != len(self.choices):
            raise PydanticCustomError(
                "quiz_duplicate_choice", "Các phương án của một câu hỏi không được trùng nhau"
            )
        return self


class QuizIn(BaseModel):
    """Bài kiểm tra của một phiên bản văn bản: 5–20 câu, mỗi câu 2–6 phương án, đúng một
    đáp án. Thay thế được cho đến khi có người làm bài."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(
        default=None, ge=1, le=100_000, description="Mặc định: phiên bản mới nhất"
    )
    pass_percent: PassPercent = DEFAULT_PASS_PERCENT
    questions: list[QuestionIn] = Field(min_length=MIN_QUESTIONS, max_length=MAX_QUESTIONS)


class QuizCsvFields(BaseModel):
    """The text fields sent with a quiz CSV."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, ge=1, le=100_000)
    pass_percent: PassPercent = DEFAULT_PASS_PERCENT


class QuestionOut(BaseModel):
    """A question as the member sees it: no answer key."""

    text: str
    choices: list[str]


class AuthoredQuestion(QuestionOut):
    correct: int


class MyQuizResult(BaseModel):
    attempts: int
    best_score: int | None = Field(description="Điểm cao nhất (phần trăm), null khi chưa làm")
    last_score: int | None
    passed: bool
    passed_at: datetime | None


class QuizOut(BaseModel):
    """Câu hỏi và phương án (không có đáp án) cùng kết quả của chính tôi."""

    document_id: uuid.UUID
    version: int
    pass_percent: int
    questions: list[QuestionOut]
    mine: MyQuizResult
    # Hint for the reading screen: an attempt is refused (409) until the version is opened.
    opened: bool


class QuizKeyOut(BaseModel):
    """The author's view: questions with their answer key, and whether it can still change."""

    document_id: uuid.UUID
    version: int
    pass_percent: int
    questions: list[AuthoredQuestion]
    authored_at: datetime
    attempted: bool = Field(description="Đã có người làm: không thể thay thế")


class AttemptIn(BaseModel):
    """Một lần làm bài: với mỗi câu hỏi (theo thứ tự), số thứ tự phương án đã chọn (từ 0)."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(
        default=None, ge=1, le=100_000, description="Mặc định: phiên bản mới nhất"
    )
    answers: list[Annotated[int, Field(ge=0, lt=MAX_CHOICES)]] = Field(
        min_length=MIN_QUESTIONS, max_length=MAX_QUESTIONS
    )


class AttemptOut(BaseModel):
    """Kết quả lần làm: điểm, đạt hay chưa; đúng/sai từng câu chỉ khi đạt; không có đáp án."""

    document_id: uuid.UUID
    version: int
    score: int = Field(description="Điểm lần này (phần trăm câu đúng)")
    passed: bool = Field(description="Lần này đạt điểm đạt")
    correct: list[bool] | None = Field(
        description="Chỉ khi lần này đạt: từng câu, câu trả lời của tôi đúng hay sai. Lần chưa "
        "đạt: null — làm lại không được là cách dò ra đáp án."
    )
    mine: MyQuizResult
