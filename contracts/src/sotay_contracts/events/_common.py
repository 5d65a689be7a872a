"""Field types shared by the event models."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field

from sotay_contracts.tokens import ORG_PATH_PATTERN, Role

__all__ = [
    "AwareDatetime",
    "OrgPath",
    "Revision",
    "Role",
    "Sha256Hex",
]

OrgPath = Annotated[
    str,
    Field(
        pattern=ORG_PATH_PATTERN,
        description=(
            "Materialised path of an org node, root first, labels separated by dots "
            "(e.g. '1.12.305'). Node Y is inside subtree X when Y == X or Y starts with X + '.'."
        ),
        examples=["1.12.305"],
    ),
]

Revision = Annotated[
    int,
    Field(
        ge=1,
        description=(
            "Revision of the aggregate after this change, +1 per change. Projections apply an "
            "event only when its revision is greater than the one they hold."
        ),
    ),
]

Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="Lower-case hex SHA-256.")]
