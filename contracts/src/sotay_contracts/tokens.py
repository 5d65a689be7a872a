"""Access-token claims (DESIGN.md §8): the contract between identity, which signs the tokens,
and every service, which verifies them."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Role = Literal[
    "member", "cell_secretary", "cell_deputy", "committee_member", "org_admin", "operator"
]

ROLES: tuple[Role, ...] = (
    "member",
    "cell_secretary",
    "cell_deputy",
    "committee_member",
    "org_admin",
    "operator",
)

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a JWT typ header, not a secret
ACCESS_TOKEN_ALGORITHM = "EdDSA"  # noqa: S105 - an algorithm name, not a secret

# A materialised org path: dot-separated node keys from the root, e.g. "1.12.305".
ORG_PATH_PATTERN = r"^[0-9a-z_]{1,32}(\.[0-9a-z_]{1,32}){0,15}$"


class RoleGrantClaim(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    role: Role
    org_path: str = Field(pattern=ORG_PATH_PATTERN)


class AccessTokenClaims(BaseModel):
    """Claims of an access token, besides the registered ``iss``, ``aud``, ``exp``, ``iat``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: UUID = Field(description="member id")
    cell_id: UUID | None = Field(default=None, description="the member's cell, if any")
    org_path: str | None = Field(
        default=None, pattern=ORG_PATH_PATTERN, description="materialised path of the cell"
    )
    grants: tuple[RoleGrantClaim, ...] = ()
    jti: str | None = None
