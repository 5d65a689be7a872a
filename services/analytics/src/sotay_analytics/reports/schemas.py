"""The reports' API contract: every report has the same envelope."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Format = Literal["json", "csv", "xlsx"]


class ColumnOut(BaseModel):
    key: str = Field(description="Key of the value in each row")
    label: str = Field(description="Vietnamese header (CSV/XLSX)")
    kind: str = Field(description="text, int, ratio (0..1), bool, datetime, month")


class ReportOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    report: str
    title: str
    scope: Literal["org", "self"] = Field(
        description="org: the subtree of `org`; self: only the caller's own row"
    )
    level: Literal["org", "member", "meeting"] = Field(
        description="What a row is: a child org node (drill down with its org_id), a member, "
        "or a meeting"
    )
    org: dict[str, Any] | None
    parameters: dict[str, Any]
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None
    generated_at: datetime
