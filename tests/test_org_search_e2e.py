"""Org search through the gateway: without diacritics, only inside the caller's grants, each
result with the orgs above it (the committee screens' tree navigator uses it)."""

from __future__ import annotations

import uuid

from .conftest import Platform, a_cell_outside

SEARCH = "/api/v1/orgs/search"


async def test_a_committee_member_finds_orgs_of_their_district_by_name_without_diacritics(
    platform: Platform,
) -> None:
    orgs = platform.credentials["orgs"]
    async with platform.client() as client:
        admin = await platform.auth("admin")
        committee = await platform.auth("committee")
        r = await client.get(f"/api/v1/orgs/{orgs['cell_id']}", headers=admin)
        assert r.status_code == 200, r.text
        commune_id = r.json()["parent_id"]
        tag = uuid.uuid4().hex[:6]
        title = f"Chi bộ Khu phố Đồng Xoài Ấp Mới {tag}"
        r = await client.post(
            "/api/v1/orgs",
            json={"parent_id": commune_id, "title": title, "kind": "cell", "code": f"S{tag}"},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        cell = r.json()

        # Folded words in any order, any case, with or without marks.
        for q in (f"dong xoai {tag}", f"ĐỒNG  XOÀI {tag}", f"{tag} ap moi", f"s{tag}"):
            r = await client.get(SEARCH, params={"q": q}, headers=committee)
            assert r.status_code == 200, r.text
            [hit] = r.json()
            assert hit["id"] == cell["id"] and hit["title"] == title
            # The orgs above it inside the committee member's grant: district, then commune.
            assert [t["id"] for t in hit["trail"]] == [orgs["district_id"], commune_id]
            assert hit["trail"][0]["kind"] == "district"

        # A cell outside the committee member's district exists, but is not found by them.
        outside = await a_cell_outside(platform, client, outside_of=orgs["district_id"])
        r = await client.get(SEARCH, params={"q": outside["title"], "limit": 50}, headers=admin)
        assert outside["id"] in {h["id"] for h in r.json()}
        r = await client.get(SEARCH, params={"q": outside["title"], "limit": 50}, headers=committee)
        assert r.status_code == 200
        assert outside["id"] not in {h["id"] for h in r.json()}
        assert all(h["trail"][0]["id"] == orgs["district_id"] for h in r.json())

        # A member without a role finds nothing; a query with no word is refused.
        r = await client.get(SEARCH, params={"q": title}, headers=await platform.auth("member"))
        assert r.status_code == 200 and r.json() == []
        for bad in ("%_", "", "x" * 101):
            r = await client.get(SEARCH, params={"q": bad}, headers=committee)
            assert r.status_code == 422, (bad, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
        r = await client.get(SEARCH, params={"q": "a", "limit": 0}, headers=committee)
        assert r.status_code == 422
