"""API models of the in-app inbox."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field
from sotay_contracts.events.notify import NotificationCause


class NotificationOut(BaseModel):
    id: UUID
    seq: int = Field(description="Position in the member's stream (the SSE event id).")
    cause_type: NotificationCause
    cause_id: UUID
    title: str
    body: str
    link: str = Field(description="Deep link inside the app, e.g. /meetings/{id}.")
    urgent: bool
    created_at: datetime
    read_at: datetime | None = None


class InboxPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None = None
    unread_count: int


class ReadAllOut(BaseModel):
    marked: int
    unread_count: int
