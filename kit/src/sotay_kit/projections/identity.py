"""The identity projection every other service keeps: org tree, who belongs to which cell, and
role grants, built only from identity's events (DESIGN.md §2).

A service that needs it:

1. applies :data:`DDL` in one of its migrations (tables prefixed ``idp_``);
2. adds :func:`binding` to its ``ServiceSpec.consumers`` — a durable pull consumer named after
   the service on the ``IDENTITY`` stream, from sequence 1, so a new service (or a wiped
   database) rebuilds the whole projection from history;
3. reads it with the query helpers below.

A service that shows members by name (minutes, who-studied lists, reports: DESIGN.md §6) also
applies :data:`NAMES_DDL` and binds with ``names=True``: it then keeps each member's display name
and party-card number from identity's internal directory (``identity.directory.*``) — those two
fields and nothing else personal — and erases them when the member leaves the platform.

Each aggregate carries a ``revision``: an event older than what the projection holds changes
nothing, so replays and redeliveries converge on the same state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from sotay_contracts.events import identity as ev

from ..app import ConsumerBinding
from ..consumer import BatchHandler, Delivery, Handler
from ..db import Connection
from ..messaging import ConsumerSpec

DDL = """
CREATE TABLE idp_orgs (
    org_id      uuid PRIMARY KEY,
    parent_id   uuid,
    path        text NOT NULL,
    kind        text NOT NULL,
    title       text NOT NULL,
    code        text,
    status      text NOT NULL,
    valid_from  date NOT NULL,
    valid_to    date,
    revision    integer NOT NULL
);
CREATE INDEX idp_orgs_path ON idp_orgs (path text_pattern_ops);

CREATE TABLE idp_members (
    member_id   uuid PRIMARY KEY,
    cell_id     uuid NOT NULL,
    org_path    text NOT NULL,
    membership  text NOT NULL,
    status      text NOT NULL,
    revision    integer NOT NULL
);
CREATE INDEX idp_members_path ON idp_members (org_path text_pattern_ops);
CREATE INDEX idp_members_cell ON idp_members (cell_id);

-- Who belonged to which cell when: transfers close one row and open the next.
CREATE TABLE idp_memberships (
    member_id   uuid NOT NULL,
    cell_id     uuid NOT NULL,
    org_path    text NOT NULL,
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz
);
CREATE INDEX idp_memberships_member ON idp_memberships (member_id);
CREATE UNIQUE INDEX idp_memberships_open ON idp_memberships (member_id) WHERE ended_at IS NULL;

CREATE TABLE idp_grants (
    grant_id    uuid PRIMARY KEY,
    member_id   uuid NOT NULL,
    role        text NOT NULL,
    org_id      uuid NOT NULL,
    org_path    text NOT NULL,
    active      boolean NOT NULL
);
CREATE INDEX idp_grants_member ON idp_grants (member_id) WHERE active;
CREATE INDEX idp_grants_path ON idp_grants (org_path text_pattern_ops) WHERE active;
"""

# Display names from identity's directory (identity.directory.*): the two fields a service that
# shows members keeps, erased (set to NULL, the revision kept) when the member leaves.
NAMES_DDL = """
CREATE TABLE idp_member_names (
    member_id    uuid PRIMARY KEY,
    full_name    text,
    card_number  text,
    revision     integer NOT NULL
);
"""

ACTIVE_STATUSES = ("active", "exempt")
_DEACTIVATED_STATUS = {
    ev.DeactivationReason.TRANSFERRED_OUT: "transferred_out",
    ev.DeactivationReason.DECEASED: "deceased",
    ev.DeactivationReason.MEMBERSHIP_ENDED: "expelled",
}

_IN_SUBTREE = "({col} = {p} OR {col} LIKE {p} || '.%')"


def in_subtree(column: str, param: str) -> str:
    """SQL: ``column`` is the path ``param`` or lies below it (uses the text_pattern_ops index)."""
    return _IN_SUBTREE.format(col=column, p=param)


# -- handlers ------------------------------------------------------------------------------

# How a service's own stored org paths follow a move: ``(conn, old_path, new_path)``.
PathRewrite = Callable[[Connection, str, str], Awaitable[None]]


async def _org_created(conn: Connection, d: Delivery) -> None:
    e = d.event
    assert isinstance(e, ev.OrgCreated)
    await conn.execute(
        "INSERT INTO idp_orgs (org_id, parent_id, path, kind, title, code, status, valid_from, "
        "valid_to, revision) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        "ON CONFLICT (org_id) DO UPDATE SET parent_id = excluded.parent_id, path = excluded.path, "
        "kind = excluded.kind, title = excluded.title, code = excluded.code, "
        "status = excluded.status, valid_from = excluded.valid_from, "
        "valid_to = excluded.valid_to, revision = excluded.revision "
        "WHERE idp_orgs.revision < excluded.revision",
        e.org_id,
        e.parent_id,
        e.path,
        e.kind.value,
        e.title,
        e.code,
        e.status.value,
        e.valid_from,
        e.valid_to,
        e.revision,
    )


async def _org_updated(conn: Connection, d: Delivery) -> None:
    e = d.event
    assert isinstance(e, ev.OrgUpdated)
    await conn.execute(
        "UPDATE idp_orgs SET kind = $2, title = $3, code = $4, status = $5, valid_from = $6, "
        "valid_to = $7, revision = $8 WHERE org_id = $1 AND revision < $8",
        e.org_id,
        e.kind.value,
        e.title,
        e.code,
        e.status.value,
        e.valid_from,
        e.valid_to,
        e.revision,
    )


async def _org_moved(conn: Connection, d: Delivery) -> None:
    e = d.event
    assert isinstance(e, ev.OrgMoved)
    current = await conn.fetchval("SELECT revision FROM idp_orgs WHERE org_id = $1", e.org_id)
    if current is None or current >= e.revision:
        return
    await conn.execute(
        "UPDATE idp_orgs SET parent_id = $2, revision = $3 WHERE org_id = $1",
        e.org_id,
        e.new_parent_id,
        e.revision,
    )
    for table, col in (
        ("idp_orgs", "path"),
        ("idp_members", "org_path"),
        ("idp_grants", "org_path"),
    ):
        await rewrite_path_column(conn, table, col, e.old_path, e.new_path)
    await rewrite_path_column(
        conn, "idp_memberships", "org_path", e.old_path, e.new_path, only="ended_at IS NULL"
    )


def _moving_own_paths(rewrite_paths: PathRewrite) -> Handler:
    """The projection's move handler, followed — in the same transaction, and only when the
    projection applied the move (its revision advanced) — by the service's own rewrite of the
    org paths it stores: every access check reads those, so a stale path would leave a
    document or a meeting with its old committee."""

    async def org_moved(conn: Connection, d: Delivery) -> None:
        e = d.event
        assert isinstance(e, ev.OrgMoved)
        before = await conn.fetchval("SELECT revision FROM idp_orgs WHERE org_id = $1", e.org_id)
        await _org_moved(conn, d)
        if before is not None and before < e.revision:
            await rewrite_paths(conn, e.old_path, e.new_path)

    return org_moved


async def rewrite_path_column(
    conn: Connection, table: str, column: str, old_path: str, new_path: str, *, only: str = ""
) -> None:
    """Move every path in ``table.column`` at or below ``old_path`` under ``new_path``
    (``only``: a further fixed SQL condition). Table and column names are the caller's
    constants, never input."""
    extra = f" AND {only}" if only else ""
    await conn.execute(
        f"UPDATE {table} SET {column} = $2 || substr({column}, length($1) + 1) "  # noqa: S608 - fixed names
        f"WHERE {in_subtree(column, '$1')}{extra}",
        old_path,
        new_path,
    )


async def rewrite_path_array(
    conn: Connection, table: str, column: str, old_path: str, new_path: str
) -> None:
    """:func:`rewrite_path_column` for a ``text[]`` column of paths (order kept)."""
    await conn.execute(
        f"UPDATE {table} SET {column} = ARRAY(SELECT CASE WHEN {in_subtree('p', '$1')} "  # noqa: S608 - fixed names
        f"THEN $2 || substr(p, length($1) + 1) ELSE p END "
        f"FROM unnest({column}) WITH ORDINALITY AS u(p, i) ORDER BY i) "
        f"WHERE EXISTS (SELECT 1 FROM unnest({column}) AS u(p) WHERE {in_subtree('p', '$1')})",
        old_path,
        new_path,
    )


async def _org_closed(conn: Connection, d: Delivery) -> None:
    e = d.event
    assert isinstance(e, ev.OrgClosed)
    await conn.execute(
        "UPDATE idp_orgs SET status = 'closed', valid_to = $2, revision = $3 "
        "WHERE org_id = $1 AND revision < $3",
        e.org_id,
        e.closed_on,
        e.revision,
    )


async def _members_created(conn: Connection, batch: Sequence[Delivery]) -> None:
    events = [d.event for d in batch if isinstance(d.event, ev.MemberCreated)]
    await conn.execute(
        "INSERT INTO idp_members (member_id, cell_id, org_path, membership, status, revision) "
        "SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], "
        "$6::int[]) ON CONFLICT (member_id) DO NOTHING",
        [e.member_id for e in events],
        [e.cell_id for e in events],
        [e.org_path for e in events],
        [e.membership.value for e in events],
        [e.status.value for e in events],
        [e.revision for e in events],
    )
    await conn.execute(
        "INSERT INTO idp_memberships (member_id, cell_id, org_path, started_at) "
        "SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[]) "
        "ON CONFLICT DO NOTHING",
        [e.member_id for e in events],
        [e.cell_id for e in events],
        [e.org_path for e in events],
        [e.occurred_at for e in events],
    )


async def _member_updated(conn: Connection, d: Delivery) -> None:
    e = d.event
    assert isinstance(e, ev.MemberUpdated)
    await conn.execute(
        "UPDATE idp_members SET membership = $2, status = $3, revision = $4 "
        "WHERE member_id = $1 AND revision < $4",
        e.member_id,
        e.membership.value,
        e.status.value,
        e.revision,
    )


async def _member_transferred(conn: Connection, d: Delivery) -> None:
    e = d.event
    assert isinstance(e, ev.MemberTransferred)
    updated = await conn.execute(
        "UPDATE idp_members SET cell_id = $2, org_path = $3, revision = $4 "
        "WHERE member_id = $1 AND revision < $4",
        e.member_id,
        e.to_cell_id,
        e.to_org_path,
        e.revision,
    )
    if updated == "UPDATE 0":
        return
    await conn.execute(
        "UPDATE idp_memberships SET ended_at = $2 WHERE member_id = $1 AND ended_at IS NULL",
        e.member_id,
        e.occurred_at,
    )
    await conn.execute(
        "INSERT INTO idp_memberships (member_id, cell_id, org_path, started_at) "
        "VALUES ($1, $2, $3, $4)",
        e.member_id,
        e.to_cell_id,
        e.to_org_path,
        e.occurred_at,
    )


async def _member_deactivated(conn: Connection, d: Delivery) -> None:
    e = d.event
    assert isinstance(e, ev.MemberDeactivated)
    status = _DEACTIVATED_STATUS.get(e.reason_code, "inactive")
    updated = await conn.execute(
        "UPDATE idp_members SET status = $2, revision = $3 WHERE member_id = $1 AND revision < $3",
        e.member_id,
        status,
        e.revision,
    )
    if updated != "UPDATE 0":
        await conn.execute(
            "UPDATE idp_memberships SET ended_at = $2 WHERE member_id = $1 AND ended_at IS NULL",
            e.member_id,
            e.occurred_at,
        )
        await conn.execute("UPDATE idp_grants SET active = false WHERE member_id = $1", e.member_id)


async def _role_granted(conn: Connection, d: Delivery) -> None:
    e = d.event
    assert isinstance(e, ev.RoleGranted)
    await conn.execute(
        "INSERT INTO idp_grants (grant_id, member_id, role, org_id, org_path, active) "
        "VALUES ($1, $2, $3, $4, $5, true) ON CONFLICT (grant_id) DO NOTHING",
        e.grant_id,
        e.member_id,
        e.role,
        e.org_id,
        e.org_path,
    )


async def _role_revoked(conn: Connection, d: Delivery) -> None:
    e = d.event
    assert isinstance(e, ev.RoleRevoked)
    # A revocation that overtakes its grant (replay of a partial stream) still wins.
    await conn.execute(
        "INSERT INTO idp_grants (grant_id, member_id, role, org_id, org_path, active) "
        "VALUES ($1, $2, $3, $4, $5, false) ON CONFLICT (grant_id) DO UPDATE SET active = false",
        e.grant_id,
        e.member_id,
        e.role,
        e.org_id,
        e.org_path,
    )


async def _members_described(conn: Connection, batch: Sequence[Delivery]) -> None:
    latest: dict[UUID, ev.MemberDescribed] = {}
    for d in batch:  # one statement may not touch a row twice: the newest of a batch wins
        e = d.event
        assert isinstance(e, ev.MemberDescribed)
        if e.member_id not in latest or latest[e.member_id].revision < e.revision:
            latest[e.member_id] = e
    events = list(latest.values())
    await conn.execute(
        "INSERT INTO idp_member_names (member_id, full_name, card_number, revision) "
        "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[]) "
        "ON CONFLICT (member_id) DO UPDATE SET full_name = excluded.full_name, "
        "card_number = excluded.card_number, revision = excluded.revision "
        "WHERE idp_member_names.revision < excluded.revision",
        [e.member_id for e in events],
        [e.full_name for e in events],
        [e.card_number for e in events],
        [e.revision for e in events],
    )


async def _member_erased(conn: Connection, d: Delivery) -> None:
    e = d.event
    assert isinstance(e, ev.MemberErased)
    await conn.execute(
        "INSERT INTO idp_member_names (member_id, full_name, card_number, revision) "
        "VALUES ($1, NULL, NULL, $2) ON CONFLICT (member_id) DO UPDATE SET full_name = NULL, "
        "card_number = NULL, revision = excluded.revision "
        "WHERE idp_member_names.revision < excluded.revision",
        e.member_id,
        e.revision,
    )


def binding(
    service: str,
    *,
    stream: str = "IDENTITY",
    rewrite_paths: PathRewrite | None = None,
    names: bool = False,
) -> ConsumerBinding:
    """The consumer that keeps ``service``'s projection. Its durable is named after the
    service (NATS permissions allow each service exactly that name). ``rewrite_paths``: how
    the org paths the service stores itself follow an org that moved with its subtree.
    ``names``: keep the members' display names too (the service applied :data:`NAMES_DDL`)."""
    handlers: dict[str, Handler] = {}
    batch_handlers: dict[str, BatchHandler] = {ev.MemberCreated.ce_type(): _members_created}
    if names:
        handlers[ev.MemberErased.ce_type()] = _member_erased
        batch_handlers[ev.MemberDescribed.ce_type()] = _members_described
    return ConsumerBinding(
        spec=ConsumerSpec(
            name=service,
            stream=stream,
            filter_subjects=("identity.>",),
            description=f"{service}: projection of the org tree, memberships and grants",
        ),
        handlers={
            ev.OrgCreated.ce_type(): _org_created,
            ev.OrgUpdated.ce_type(): _org_updated,
            ev.OrgMoved.ce_type(): (
                _org_moved if rewrite_paths is None else _moving_own_paths(rewrite_paths)
            ),
            ev.OrgClosed.ce_type(): _org_closed,
            ev.MemberUpdated.ce_type(): _member_updated,
            ev.MemberTransferred.ce_type(): _member_transferred,
            ev.MemberDeactivated.ce_type(): _member_deactivated,
            ev.RoleGranted.ce_type(): _role_granted,
            ev.RoleRevoked.ce_type(): _role_revoked,
        }
        | handlers,
        batch_handlers=batch_handlers,
    )


# -- queries -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectedMember:
    member_id: UUID
    cell_id: UUID
    org_path: str
    status: str


async def members_in_subtree(conn: Connection, org_path: str) -> list[ProjectedMember]:
    """Active and exempt members of every cell at or below ``org_path``."""
    rows = await conn.fetch(
        "SELECT member_id, cell_id, org_path, status FROM idp_members "  # noqa: S608
        f"WHERE {in_subtree('org_path', '$1')} AND status = ANY($2::text[])",
        org_path,
        list(ACTIVE_STATUSES),
    )
    return [ProjectedMember(**dict(r)) for r in rows]


async def cell_roster(conn: Connection, cell_id: UUID) -> list[ProjectedMember]:
    rows = await conn.fetch(
        "SELECT member_id, cell_id, org_path, status FROM idp_members "
        "WHERE cell_id = $1 AND status = ANY($2::text[]) ORDER BY member_id",
        cell_id,
        list(ACTIVE_STATUSES),
    )
    return [ProjectedMember(**dict(r)) for r in rows]


async def org_path_of(conn: Connection, org_id: UUID) -> str | None:
    path: str | None = await conn.fetchval("SELECT path FROM idp_orgs WHERE org_id = $1", org_id)
    return path


@dataclass(frozen=True, slots=True)
class MemberName:
    """How a member is shown: name and party-card number, both None once erased (the member
    left) or while identity's directory has not described them yet."""

    full_name: str | None
    card_number: str | None


UNNAMED = MemberName(None, None)


async def names_of(conn: Connection, member_ids: Sequence[UUID]) -> dict[UUID, MemberName]:
    """The display names of ``member_ids`` (every id is a key; :data:`UNNAMED` when unknown)."""
    rows = await conn.fetch(
        "SELECT member_id, full_name, card_number FROM idp_member_names "
        "WHERE member_id = ANY($1::uuid[])",
        list(set(member_ids)),
    )
    found = {r["member_id"]: MemberName(r["full_name"], r["card_number"]) for r in rows}
    return {m: found.get(m, UNNAMED) for m in member_ids}


async def holders(conn: Connection, roles: Sequence[str], org_path: str) -> list[UUID]:
    """Members holding one of ``roles`` on ``org_path`` or an ancestor of it."""
    rows = await conn.fetch(
        "SELECT DISTINCT member_id FROM idp_grants WHERE active AND role = ANY($1::text[]) "
        "AND ($2 = org_path OR $2 LIKE org_path || '.%')",
        list(roles),
        org_path,
    )
    return [r["member_id"] for r in rows]
