"""API models of news."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sotay_kit.text import NoControlMultiline, nfc


def _nfc(value: object) -> object:
    return nfc(value) if isinstance(value, str) else value


class NewsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[
        str, BeforeValidator(_nfc), Field(min_length=1, max_length=300), NoControlMultiline
    ]
    body: Annotated[
        str,
        BeforeValidator(_nfc),
        Field(min_length=1, max_length=50_000, description="Markdown"),
        NoControlMultiline,
    ]
    org_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)


class NewsOut(BaseModel):
    id: uuid.UUID
    title: str
    body: str
    org_ids: list[uuid.UUID]
    published_at: datetime
