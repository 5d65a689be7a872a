"""The member's record (lý lịch đảng viên): work history, rewards and discipline, entered only
by a body competent for the form, read by the member and those over their cell, audited, and
never put on the bus."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from .conftest import Tree, bearer

MEMBER = "Hoàng Văn Đảng Viên"  # cell_a1a, under commune_a1, district_a, the province


def _decision(tree: Tree, form: str, org: str, **overrides: Any) -> dict[str, Any]:
    kind = (
        "reward"
        if form in ("huy_hieu", "bang_khen", "giay_khen", "khen_thuong_khac")
        else "discipline"
    )
    return {
        "kind": kind,
        "form": form,
        "decision_number": "15-QĐ/HU",
        "decided_on": "2026-11-20",
        "org_id": str(tree.ids[org]),
        "reason": "Hoàn thành xuất sắc nhiệm vụ năm 2026",
        **overrides,
    }


async def _record(identity: Any, token: str, tree: Tree, body: dict[str, Any], expect: int) -> Any:
    r = await identity.client.post(
        f"/api/v1/members/{tree.members[MEMBER]}/distinctions", json=body, headers=bearer(token)
    )
    assert r.status_code == expect, r.text
    return r.json()


async def test_competent_bodies_enter_rewards_and_discipline_the_member_reads(
    identity: Any, tree: Tree, token_for: Any
) -> None:
    district_admin = await token_for("Lê Văn Huyện")  # org_admin of district_a
    secretary = await token_for("Nguyễn Văn Bí Thư")  # cell_secretary of the member's cell
    async with identity.pool.acquire() as conn:
        events_before = await conn.fetchval("SELECT count(*) FROM outbox")

    record = await _record(
        identity, district_admin, tree, _decision(tree, "bang_khen", "district_a"), 201
    )
    assert [(r["form"], r["decided_by_title"]) for r in record["rewards"]] == [
        ("bang_khen", "Đảng bộ huyện An Bình")
    ]
    reprimand = _decision(tree, "khien_trach", "cell_a1a", reason="Vi phạm quy định sinh hoạt")
    await _record(identity, secretary, tree, reprimand, 201)

    # Competence: a cell may reprimand, not remove from a post; expulsion is a district's.
    refused = await _record(
        identity, secretary, tree, _decision(tree, "cach_chuc", "cell_a1a"), 422
    )
    assert "thẩm quyền" in refused["detail"]
    await _record(identity, secretary, tree, _decision(tree, "khai_tru", "district_a"), 403)
    badge = await _record(
        identity, district_admin, tree, _decision(tree, "huy_hieu", "district_a"), 422
    )
    assert "cấp tỉnh" in badge["detail"]
    # A body of another subtree, or one below the member's cell, decides nothing for them.
    elsewhere = await token_for("Phạm Văn Bình")  # org_admin of district_b
    await _record(identity, elsewhere, tree, _decision(tree, "bang_khen", "district_b"), 404)
    sibling = await _record(
        identity,
        await token_for("Trần Thị Quản Trị"),
        tree,
        _decision(tree, "giay_khen", "district_b"),
        422,
    )
    assert "cấp trên" in sibling["detail"]
    # Bad input changes nothing.
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    await _record(
        identity,
        district_admin,
        tree,
        _decision(tree, "bang_khen", "district_a", decided_on=tomorrow),
        422,
    )
    await _record(
        identity,
        district_admin,
        tree,
        _decision(tree, "bang_khen", "district_a", kind="discipline"),
        422,
    )
    await _record(
        identity,
        district_admin,
        tree,
        _decision(tree, "bang_khen", "district_a", decision_number=" "),
        422,
    )
    await _record(
        identity,
        district_admin,
        tree,
        {**_decision(tree, "canh_cao", "district_a"), "form": "phat_tien"},
        422,
    )

    mine = await identity.client.get("/api/v1/me/record", headers=bearer(await token_for(MEMBER)))
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert [r["form"] for r in body["rewards"]] == ["bang_khen"]
    assert [(d["form"], d["reason"]) for d in body["discipline"]] == [
        ("khien_trach", "Vi phạm quy định sinh hoạt")
    ]
    assert [h["cell_title"] for h in body["history"]] == ["Chi bộ thôn Đông"]
    # Another cell's member does not learn the record exists.
    other = bearer(await token_for("Vũ Thị Đảng Viên"))
    r = await identity.client.get(f"/api/v1/members/{tree.members[MEMBER]}/record", headers=other)
    assert r.status_code == 404

    async with identity.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == events_before  # not on the bus
        entries = await conn.fetch(
            "SELECT action, target, details FROM audit_log "
            "WHERE action LIKE 'members.%_recorded' ORDER BY seq"
        )
    assert [e["action"] for e in entries] == [
        "members.reward_recorded",
        "members.discipline_recorded",
    ]
    assert all(e["target"] == str(tree.members[MEMBER]) for e in entries)
    logged = json.dumps([dict(e["details"]) for e in entries], ensure_ascii=False)
    assert "Vi phạm" not in logged and "15-QĐ" not in logged  # ids and codes only


async def test_a_decision_dated_today_in_vietnam_is_accepted_after_its_midnight(
    identity: Any, tree: Tree, token_for: Any
) -> None:
    """At 00:30 in Hà Nội it is still the day before in UTC: a decision dated that Vietnamese
    day is today's, not the future's; the next day is still refused."""
    from datetime import UTC, datetime

    from sotay_kit.clock import current_time

    async def half_past_midnight_in_hanoi() -> datetime:
        return datetime(2026, 12, 3, 17, 30, tzinfo=UTC)  # 2026-12-04 00:30 in Hà Nội

    identity.app.dependency_overrides[current_time] = half_past_midnight_in_hanoi
    try:
        admin = await token_for("Lê Văn Huyện")
        today = _decision(tree, "bang_khen", "district_a", decided_on="2026-12-04")
        record = await _record(identity, admin, tree, today, 201)
        assert "2026-12-04" in [r["decided_on"] for r in record["rewards"]]
        tomorrow = _decision(tree, "bang_khen", "district_a", decided_on="2026-12-05")
        refused = await _record(identity, admin, tree, tomorrow, 422)
        assert "tương lai" in refused["detail"]
    finally:
        identity.app.dependency_overrides.pop(current_time, None)
