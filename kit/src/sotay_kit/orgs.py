"""Facts about the party's org tree that every service applies the same way."""

from __future__ import annotations

from sotay_contracts.events.identity import OrgKind

# The org kinds members belong to directly (a chi bộ): meetings are held there, rosters and
# cell-level roles live there.
CELL_KINDS: tuple[str, ...] = (OrgKind.CELL.value, OrgKind.GRASSROOTS_CELL.value)
