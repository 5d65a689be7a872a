"""Identity's directory: a member's display name and party-card number on internal subjects
(``identity.directory.*``, DESIGN.md §6), for the services that show members to secretaries and
committees by name. The only personal data on the bus; never sourced into ``PUBLIC``.

Each change of what a member is shown as (name, card number) or where (cell) enqueues
:func:`described`, in the same transaction and after the member event it goes with; leaving
the platform enqueues :func:`erased`, and every service drops the two fields.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
from sotay_contracts.events.identity import MemberDescribed, MemberErased

# A change of one of these (or of the cell: a transfer) fires a described event.
SHOWN = ("full_name", "card_number")


def described(
    *,
    member_id: UUID,
    full_name: str,
    card_number: str,
    cell_id: UUID,
    org_path: str,
    revision: int,
    now: datetime,
) -> MemberDescribed:
    return MemberDescribed(
        member_id=member_id,
        full_name=full_name,
        card_number=card_number,
        cell_id=cell_id,
        org_path=org_path,
        revision=revision,
        occurred_at=now,
    )


def described_row(row: asyncpg.Record, *, now: datetime) -> MemberDescribed:
    """The directory entry of a member row of the repository (with its ``org_path``)."""
    return described(
        member_id=row["id"],
        full_name=row["full_name"],
        card_number=row["card_number"],
        cell_id=row["cell_id"],
        org_path=row["org_path"],
        revision=row["revision"],
        now=now,
    )


def erased(row: asyncpg.Record, *, now: datetime) -> MemberErased:
    return MemberErased(member_id=row["id"], revision=row["revision"], occurred_at=now)
