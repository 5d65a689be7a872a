"""Analytics' facts are partitioned by month (sotay_analytics.partitioned): the attendance
report reads only the months it asks for, and facts that waited in the default partition are
given their months without changing any report."""

from __future__ import annotations

from datetime import UTC, datetime

from sotay_analytics import partitioned
from sotay_analytics.reports.repository import _REACH_COLUMNS, attendance_by_member_sql
from sotay_kit import partitions
from sotay_kit.testing.partitions import partition_rows, plan_nodes, plan_relations

from .conftest import AnalyticsApp, month_scenario


async def test_the_attendance_report_reads_only_the_months_it_asks_for(svc: AnalyticsApp) -> None:
    this_month = partitions.month_of(datetime.now(UTC))
    since = datetime(this_month.year, this_month.month, 1, tzinfo=UTC)
    next_month = partitions.add_months(this_month, 1)
    until = datetime(next_month.year, next_month.month, 1, tzinfo=UTC)
    async with svc.pool.acquire() as conn:
        for spec in partitioned.TABLES:
            assert f"{spec.table}_default" in await partition_rows(conn, spec.table)
        read = await plan_relations(
            conn, attendance_by_member_sql(one_member=False), "1", since, until
        )
    assert read == {f"an_attendance_final_p{this_month:%Y%m}"}  # not the others, nor the default


async def test_moving_facts_into_their_months_changes_no_report(svc: AnalyticsApp) -> None:
    """The scripted months lie before the partitions the migration made: their final attendance
    waits in the default partition until maintenance gives it its months."""
    await svc.feed(*month_scenario(svc.world).events)
    params = {"from": "2026-10", "to": "2026-11"}
    before = await svc.report("attendance", "c1", **params)
    async with svc.pool.acquire() as conn:
        waiting = (await partition_rows(conn, "an_attendance_final"))["an_attendance_final_default"]
        assert waiting > 0
        report = await partitions.maintain(
            conn, [partitioned.ATTENDANCE_FINAL], today=datetime.now(UTC).date()
        )
        rows = await partition_rows(conn, "an_attendance_final")
    assert report.moved_rows == waiting and rows["an_attendance_final_default"] == 0
    assert rows["an_attendance_final_p202610"] + rows["an_attendance_final_p202611"] == waiting
    assert await svc.report("attendance", "c1", **params) == before


async def test_the_reach_report_looks_each_member_up_by_the_whole_key(svc: AnalyticsApp) -> None:
    """Right after a province's fan-out the month's partitions have no statistics yet: the
    reach report must still find each member's notification and reading by the whole primary
    key, not join on the publication and filter the member (which made a province's report
    quadratic: 60,000 × 60,000 and a timeout)."""
    await svc.feed(*month_scenario(svc.world).events)
    async with svc.pool.acquire() as conn:
        for table in ("an_audience", "an_notifications", "an_reads"):
            for (name,) in await conn.fetch(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = $1::regclass",
                table,
            ):
                await conn.execute("DELETE FROM pg_statistic WHERE starelid = $1::regclass", name)
                await conn.execute("UPDATE pg_class SET reltuples = -1 WHERE relname = $1", name)
        publication = await conn.fetchval("SELECT publication_id FROM an_publications LIMIT 1")
        plan = await conn.fetchval(
            f"EXPLAIN (FORMAT JSON) SELECT {_REACH_COLUMNS} "
            "AND (a.org_path = $1 OR a.org_path LIKE $1 || '.%')",
            "1",
            datetime.now(UTC),
            None,
            publication,
            None,
            None,
        )
    filters = [n["Join Filter"] for n in plan_nodes(plan) if "Join Filter" in n]
    assert not [f for f in filters if "member_id" in f], plan
