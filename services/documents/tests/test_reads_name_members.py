"""The who-studied list names members by the name and card number identity's directory gives
them (documents' own copy of the two fields), and stops naming a member who left."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sotay_contracts import new_cloud_event
from sotay_contracts.events import identity as ev

from .conftest import wait_until


async def _publish(env: Any, *events: Any) -> None:
    js = env.nc.jetstream()
    for e in events:
        ce = new_cloud_event(e)
        await js.publish(ce.nats_subject, ce.data, headers=ce.to_nats_headers())


async def test_who_studied_names_members_and_forgets_who_left(env: Any, resolution: bytes) -> None:
    now = datetime.now(UTC)
    ids, cell = env.member_ids, env.org_ids["cell_a1a"]

    def described(name: str, full_name: str, card: str) -> ev.MemberDescribed:
        return ev.MemberDescribed(
            member_id=ids[name], full_name=full_name, card_number=card, cell_id=cell,
            org_path=env.path("cell_a1a"), revision=1, occurred_at=now,
        )  # fmt: skip

    await _publish(
        env,
        described("member_a1a_1", "Nguyễn Thị Hoa", "93.000011"),
        described("member_a1a_2", "Trần Văn Bình", "93.000012"),
    )
    doc = await env.upload("admin", resolution, title="Nghị quyết cần học")
    await env.publish("admin", doc["id"], "cell_a1a", study_required=True)
    url = f"/api/v1/documents/{doc['id']}/reads"
    await env.client.post(url, json={"studied": True}, headers=env.auth("member_a1a_1"))

    async def who_studied() -> dict[str, tuple[str | None, str | None, str]]:
        r = await env.client.get(
            url, params={"org_id": str(cell)}, headers=env.auth("secretary_a1a")
        )
        assert r.status_code == 200, r.text
        return {
            i["member_id"]: (i["full_name"], i["card_number"], i["status"])
            for i in r.json()["items"]
        }

    async def named() -> bool:
        return (await who_studied())[str(ids["member_a1a_2"])][0] is not None

    await wait_until(named, "the directory's names")
    rows = await who_studied()
    assert rows[str(ids["member_a1a_1"])] == ("Nguyễn Thị Hoa", "93.000011", "studied")
    assert rows[str(ids["member_a1a_2"])] == ("Trần Văn Bình", "93.000012", "not_opened")
    assert rows[str(ids["admin"])][:2] == (None, None)  # never described: no name to show

    # Bình leaves the platform: identity erases the name, documents forgets it.
    await _publish(env, ev.MemberErased(member_id=ids["member_a1a_2"], revision=2, occurred_at=now))

    async def erased() -> bool:
        row = (await who_studied()).get(str(ids["member_a1a_2"]))
        return row is None or row[0] is None

    await wait_until(erased, "the erasure")
    async with env.pool.acquire() as conn:
        left = await conn.fetchrow(
            "SELECT full_name, card_number FROM idp_member_names WHERE member_id = $1",
            ids["member_a1a_2"],
        )
    assert tuple(left) == (None, None)  # only the id (and the revision) is kept
