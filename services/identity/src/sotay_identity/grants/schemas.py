"""API models of role grants."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from sotay_contracts.tokens import Role


class GrantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: UUID
    role: Role
    org_id: UUID


class GrantOut(BaseModel):
    id: UUID
    member_id: UUID
    full_name: str
    role: Role
    org_id: UUID
    org_path: str
    granted_by: UUID | None
    granted_at: datetime
    revoked_by: UUID | None = None
    revoked_at: datetime | None = None
