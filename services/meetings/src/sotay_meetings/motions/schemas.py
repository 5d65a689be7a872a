"""API models of motions (biểu quyết)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError
from sotay_contracts.events.meetings import MAX_MOTION_OPTIONS

from ..meetings.schemas import Label, Title

# The usual three when the chair names none.
DEFAULT_OPTIONS = ("Tán thành", "Không tán thành", "Không biểu quyết")
MAX_HANDS = 10_000


class MotionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    options: list[Label] | None = Field(
        default=None,
        min_length=2,
        max_length=MAX_MOTION_OPTIONS,
        description="Named choices; by default: Tán thành / Không tán thành / Không biểu quyết.",
    )
    secret: bool = Field(default=False, description="Secret ballot (bỏ phiếu kín).")

    @model_validator(mode="after")
    def _distinct_options(self) -> Self:
        if self.options is not None and len({o.casefold() for o in self.options}) < len(
            self.options
        ):
            raise PydanticCustomError("duplicates", "Các phương án không được trùng nhau")
        return self


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    choice: int = Field(ge=0, lt=MAX_MOTION_OPTIONS, description="Index of the chosen option.")


class HandsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    counts: Annotated[
        list[Annotated[int, Field(ge=0, le=MAX_HANDS)]],
        Field(min_length=2, max_length=MAX_MOTION_OPTIONS),
    ]


class OptionResult(BaseModel):
    label: str
    votes: int | None = Field(
        description="Votes cast from phones; hidden while a secret ballot is open."
    )
    hands: int | None = Field(description="Show-of-hands count; hidden like ``votes``.")
    total: int | None


class MotionOut(BaseModel):
    id: UUID
    number: int
    title: str
    secret: bool
    status: str
    opened_at: datetime
    closed_at: datetime | None
    options: list[OptionResult]
    ballots_cast: int = Field(description="Members who voted from their phones.")
    present: int = Field(description="Members present: when it closed, or now.")
    my_vote: int | None = Field(
        description="Your choice on an open ballot; on a secret one never returned."
    )
    voted: bool = Field(description="Whether you have voted (both kinds of ballot).")
