"""The identity projection other services keep, built from identity's events only, and
rebuilt from sequence 1 to the same state."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from nats.js import JetStreamContext
from sotay_contracts import Event, new_cloud_event
from sotay_contracts.events import identity as ev
from sotay_kit import db, messaging
from sotay_kit.consumer import EventConsumer
from sotay_kit.projections import identity as projection

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _org(org_id: uuid.UUID, parent: uuid.UUID | None, path: str, kind: str) -> ev.OrgCreated:
    return ev.OrgCreated(
        org_id=org_id,
        parent_id=parent,
        path=path,
        kind=ev.OrgKind(kind),
        title=f"Tổ chức {path}",
        status=ev.OrgStatus.ACTIVE,
        valid_from=date(2026, 1, 1),
        revision=1,
        occurred_at=NOW,
    )


def _history() -> tuple[list[Event], dict[str, uuid.UUID]]:
    ids = {k: uuid.uuid4() for k in ("prov", "dA", "dB", "cA", "cB", "m1", "m2", "m3", "g1")}
    events: list[Event] = [
        _org(ids["prov"], None, "1", "province"),
        _org(ids["dA"], ids["prov"], "1.2", "district"),
        _org(ids["dB"], ids["prov"], "1.3", "district"),
        _org(ids["cA"], ids["dA"], "1.2.4", "grassroots_cell"),
        _org(ids["cB"], ids["dB"], "1.3.5", "grassroots_cell"),
    ]
    for m, cell, path in (("m1", "cA", "1.2.4"), ("m2", "cA", "1.2.4"), ("m3", "cB", "1.3.5")):
        events.append(
            ev.MemberCreated(
                member_id=ids[m],
                cell_id=ids[cell],
                org_path=path,
                membership=ev.Membership.OFFICIAL,
                status=ev.MemberStatus.ACTIVE,
                revision=1,
                occurred_at=NOW,
            )
        )
    events += [
        ev.RoleGranted(
            grant_id=ids["g1"],
            member_id=ids["m1"],
            role="cell_secretary",
            org_id=ids["cA"],
            org_path="1.2.4",
            granted_by=None,
            occurred_at=NOW,
        ),
        ev.MemberTransferred(
            member_id=ids["m2"],
            from_cell_id=ids["cA"],
            from_org_path="1.2.4",
            to_cell_id=ids["cB"],
            to_org_path="1.3.5",
            effective_on=date(2026, 11, 30),
            revision=2,
            occurred_at=NOW,
        ),
        # District A's cell moves under district B: every path below it is rewritten.
        ev.OrgMoved(
            org_id=ids["cA"],
            old_parent_id=ids["dA"],
            new_parent_id=ids["dB"],
            old_path="1.2.4",
            new_path="1.3.4",
            revision=2,
            occurred_at=NOW,
        ),
        ev.MemberUpdated(
            member_id=ids["m3"],
            cell_id=ids["cB"],
            org_path="1.3.5",
            membership=ev.Membership.OFFICIAL,
            status=ev.MemberStatus.EXEMPT,
            changed_fields=["status"],
            revision=2,
            occurred_at=NOW,
        ),
        ev.OrgClosed(
            org_id=ids["dA"], path="1.2", closed_on=date(2026, 11, 30), revision=2, occurred_at=NOW
        ),
    ]
    return events, ids


async def _snapshot(conn: asyncpg.Connection) -> dict[str, Any]:
    return {
        t: [tuple(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY 1, 2")]  # noqa: S608
        for t in ("idp_orgs", "idp_members", "idp_grants")
    } | {
        "memberships": [
            tuple(r)
            for r in await conn.fetch(
                "SELECT member_id, cell_id, org_path, ended_at IS NULL FROM idp_memberships "
                "ORDER BY member_id, started_at, ended_at IS NULL"
            )
        ]
    }


async def _consume_all(consumer: EventConsumer, js: JetStreamContext) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    deadline = time.monotonic() + 30
    try:
        while True:
            info = await js.consumer_info("IDENTITY", consumer.spec.name)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                break
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task


async def test_projection_follows_history_and_rebuilds_to_the_same_state(
    kit_dsn: str, js: JetStreamContext
) -> None:
    conn = await db.connect(kit_dsn)
    await conn.execute(projection.DDL)
    pool = await db.create_pool(kit_dsn)
    try:
        events, ids = _history()
        for e in events:
            ce = new_cloud_event(e)
            await js.publish(ce.nats_subject, ce.data, headers=ce.to_nats_headers())
        binding = projection.binding("documents")
        await messaging.provision(js, [], [binding.spec])
        consumer = EventConsumer(
            binding.spec,
            pool=pool,
            nc=js._nc,
            js=js,
            handlers=binding.handlers,
            batch_handlers=binding.batch_handlers,
            fetch_timeout=0.2,
        )
        await _consume_all(consumer, js)

        roster = await projection.members_in_subtree(conn, "1.3")
        assert {m.member_id: m.org_path for m in roster} == {
            ids["m1"]: "1.3.4",
            ids["m2"]: "1.3.5",
            ids["m3"]: "1.3.5",
        }
        assert {m.member_id for m in await projection.members_in_subtree(conn, "1.2")} == set()
        assert await projection.org_path_of(conn, ids["cA"]) == "1.3.4"
        assert await projection.holders(conn, ["cell_secretary"], "1.3.4") == [ids["m1"]]
        exempt = await conn.fetchval(
            "SELECT status FROM idp_members WHERE member_id = $1", ids["m3"]
        )
        assert exempt == "exempt"
        history = await conn.fetch(
            "SELECT cell_id, ended_at IS NULL AS open FROM idp_memberships "
            "WHERE member_id = $1 ORDER BY started_at, ended_at NULLS LAST",
            ids["m2"],
        )
        assert [(r["cell_id"], r["open"]) for r in history] == [
            (ids["cA"], False),
            (ids["cB"], True),
        ]
        live = await _snapshot(conn)

        # Rebuild: wipe the projection and the inbox, replay the stream from sequence 1.
        await conn.execute("TRUNCATE idp_orgs, idp_members, idp_memberships, idp_grants, inbox")
        await js.delete_consumer("IDENTITY", "documents")
        await messaging.provision(js, [], [binding.spec])
        await _consume_all(
            EventConsumer(
                binding.spec,
                pool=pool,
                nc=js._nc,
                js=js,
                handlers=binding.handlers,
                batch_handlers=binding.batch_handlers,
                fetch_timeout=0.2,
            ),
            js,
        )
        assert await _snapshot(conn) == live
    finally:
        await pool.close()
        await conn.close()


def _described(member: uuid.UUID, name: str, card: str, revision: int) -> ev.MemberDescribed:
    return ev.MemberDescribed(
        member_id=member,
        full_name=name,
        card_number=card,
        cell_id=uuid.uuid4(),
        org_path="1.2.4",
        revision=revision,
        occurred_at=NOW,
    )


async def test_names_follow_the_directory_and_are_erased_when_a_member_leaves(
    kit_dsn: str, js: JetStreamContext
) -> None:
    """A service that shows names keeps name + card number from identity's directory: the
    newest description wins (a stale one changes nothing), a member who leaves is erased, and
    a replay from sequence 1 gives the same names."""
    conn = await db.connect(kit_dsn)
    await conn.execute(projection.DDL + projection.NAMES_DDL)
    pool = await db.create_pool(kit_dsn)
    hoa, binh, unknown = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    history: list[Event] = [
        _described(hoa, "Nguyễn Thị Hoa", "93.000001", 1),
        _described(binh, "Trần Văn Bình", "93.000002", 1),
        _described(hoa, "Nguyễn Thị Hòa", "93.000001", 3),  # renamed
        _described(hoa, "Tên cũ hơn", "93.000009", 2),  # stale: overtaken by revision 3
        ev.MemberErased(member_id=binh, revision=2, occurred_at=NOW),  # Bình left
    ]
    try:
        for e in history:
            ce = new_cloud_event(e)
            await js.publish(ce.nats_subject, ce.data, headers=ce.to_nats_headers())
        binding = projection.binding("meetings", names=True)
        await messaging.provision(js, [], [binding.spec])

        def consumer() -> EventConsumer:
            return EventConsumer(
                binding.spec,
                pool=pool,
                nc=js._nc,
                js=js,
                handlers=binding.handlers,
                batch_handlers=binding.batch_handlers,
                fetch_timeout=0.2,
            )

        await _consume_all(consumer(), js)
        names = await projection.names_of(conn, [hoa, binh, unknown])
        assert names == {
            hoa: projection.MemberName("Nguyễn Thị Hòa", "93.000001"),
            binh: projection.UNNAMED,
            unknown: projection.UNNAMED,
        }
        # Nothing of Bình is left but the id and the revision that erased him.
        assert tuple(
            await conn.fetchrow("SELECT * FROM idp_member_names WHERE member_id = $1", binh)
        ) == (binh, None, None, 2)

        await conn.execute("TRUNCATE idp_member_names, inbox")
        await js.delete_consumer("IDENTITY", "meetings")
        await messaging.provision(js, [], [binding.spec])
        await _consume_all(consumer(), js)
        assert await projection.names_of(conn, [hoa, binh, unknown]) == names
    finally:
        await pool.close()
        await conn.close()
