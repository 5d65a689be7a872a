"""Analytics' facts are partitioned by month (sotay_analytics.partitioned): the attendance
report reads only the months it asks for, and facts that waited in the default partition are
given their months without changing any report."""

from __future__ import annotations

from datetime import UTC, datetime

from sotay_analytics import partitioned
from sotay_analytics.reports.repository import attendance_by_member_sql
from sotay_kit import partitions
from sotay_kit.testing.partitions import partition_rows, plan_relations

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
