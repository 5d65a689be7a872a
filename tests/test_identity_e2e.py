"""Identity through the gateway with the demo province (issue 3's acceptance path): the admin
imports a cell's members from CSV and grants a secretary; imported members are made to replace
their one-time codes; tokens verify with an independent JOSE library; a transfer is on NATS."""

from __future__ import annotations

import asyncio
import time
import uuid
import warnings
from datetime import datetime

import pytest
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet
from sotay_contracts.events.identity import MemberTransferred
from sotay_kit.clock import LOCAL_TZ

from .conftest import Platform, find_on_nats, first_login

pytestmark = pytest.mark.e2e

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hạnh", "Lan", "Mai", "Sơn", "Tâm", "Yến", "Đức"]


def _csv(n: int, prefix: str) -> bytes:
    lines = ["STT,Số thẻ đảng viên,Họ và tên,Ngày sinh,Giới tính,Số điện thoại,Ngày vào Đảng"]
    for i in range(n):
        lines.append(
            f"{i + 1},{prefix}{i:05d},{SURNAMES[i % 5]} Văn {GIVEN[i % 11]},"
            f"{1 + i % 28:02d}/0{1 + i % 9}/1985,Nam,097{i:07d},15/03/2010"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


async def test_import_grant_first_login_tokens_and_transfer(platform: Platform) -> None:
    demo_cell_id = platform.credentials["orgs"]["cell_id"]
    admin = await platform.auth("admin")
    async with platform.client() as client:
        # 0. A new cell beside the demo cell: the 1,000 members below would otherwise crowd the
        # demo cell that the other tests of the shared platform (and the app's screens) use.
        parent = (await client.get(f"/api/v1/orgs/{demo_cell_id}", headers=admin)).json()[
            "parent_id"
        ]
        r = await client.post(
            "/api/v1/orgs",
            json={"parent_id": parent, "title": f"Chi bộ nhập thử {uuid.uuid4().hex[:6]}",
                  "kind": "cell"},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        cell_id = r.json()["id"]

        # 1. The province's admin imports 1,000 members into that cell.
        r = await client.post(
            f"/api/v1/members/import?cell_id={cell_id}",
            content=_csv(1000, "E2E"),
            headers={**admin, "content-type": "text/csv; charset=utf-8"},
        )
        assert r.status_code == 201, r.text[:2000]
        imported = r.json()
        assert imported["imported"] == 1000
        secretary, member = imported["accounts"][0], imported["accounts"][1]

        # 2. One of them becomes the cell's secretary (found by role, not by a flag).
        r = await client.post(
            "/api/v1/role-grants",
            json={"member_id": secretary["member_id"], "role": "cell_secretary", "org_id": cell_id},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        r = await client.get(f"/api/v1/orgs/{cell_id}/secretaries", headers=admin)
        assert secretary["member_id"] in {s["member_id"] for s in r.json()["items"]}

        # 3. Both log in with their one-time codes and are made to choose a password.
        secretary_token = await first_login(
            client, secretary["card_number"], secretary["activation_code"]
        )
        member_token = await first_login(client, member["card_number"], member["activation_code"])

        # 4. An independent JOSE implementation verifies the token against the JWKS.
        jwks = (await client.get("/api/v1/auth/jwks")).json()
        with warnings.catch_warnings():
            # RFC 9864 deprecates "EdDSA" for the fully specified "Ed25519"; DESIGN.md §8
            # names EdDSA, which every verifier in the platform accepts.
            warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)
            token = jwt.decode(secretary_token, KeySet.import_key_set(jwks), algorithms=["EdDSA"])
        assert token.header["typ"] == "at+jwt"
        assert token.header["kid"] in {k["kid"] for k in jwks["keys"]}
        now = int(time.time())
        jwt.JWTClaimsRegistry(
            now=now,
            iss={"essential": True},
            aud={"essential": True},
            exp={"essential": True},
            sub={"essential": True, "value": secretary["member_id"]},
        ).validate(token.claims)
        claims = token.claims
        assert 0 < claims["exp"] - now <= 600
        cell_path = claims["org_path"]
        assert claims["cell_id"] == cell_id
        assert {"role": "cell_secretary", "org_path": cell_path} in claims["grants"]
        me = (
            await client.get("/api/v1/me", headers={"authorization": f"Bearer {member_token}"})
        ).json()
        assert me["id"] == member["member_id"]
        assert me["cell"]["id"] == cell_id

        # 5. The admin transfers the member to another cell of the same commune.
        vietnam_today = datetime.now(LOCAL_TZ).date().isoformat()
        target = {"id": demo_cell_id}
        r = await client.post(
            f"/api/v1/members/{member['member_id']}/transfer",
            # The import started the membership on Vietnam's date, which is a day ahead of
            # UTC's from 17:00 UTC: a transfer dated by the server's clock would precede it.
            json={"to_cell_id": target["id"], "effective_on": vietnam_today},
            headers=admin,
        )
        assert r.status_code == 200, r.text

    # 6. The transfer is on NATS as a valid CloudEvent carrying no personal data.
    event = await find_on_nats(platform, "identity.member.transferred.v1", member["member_id"])
    assert isinstance(event[1], MemberTransferred)
    assert str(event[1].to_cell_id) == target["id"]
    assert event[0].source == "/services/identity"
    assert member["full_name"].encode() not in event[0].data
    assert member["card_number"].encode() not in event[0].data


async def test_demo_accounts_log_in_through_the_gateway(platform: Platform) -> None:
    async with platform.client() as client:
        for label in ("admin", "secretary", "member"):
            me = await client.get("/api/v1/me", headers=await platform.auth(label))
            assert me.status_code == 200, (label, me.text)
            assert me.json()["id"] == platform.credentials[label]["member_id"]
        admin_me = (await client.get("/api/v1/me", headers=await platform.auth("admin"))).json()
        assert any(r["role"] == "org_admin" for r in admin_me["roles"])


async def test_concurrent_gateway_requests_carry_request_ids(platform: Platform) -> None:
    async with platform.client() as client:
        responses = await asyncio.gather(*(client.get("/api/v1/auth/jwks") for _ in range(20)))
    ids = {r.headers["x-request-id"] for r in responses}
    assert all(r.status_code == 200 for r in responses)
    assert len(ids) == 20


async def test_browser_session_through_the_gateway(platform: Platform) -> None:
    """The web client's session: the refresh token only in an HttpOnly cookie scoped to
    /api/v1/auth (not Secure on the developer's localhost gateway), usable only with the
    X-Sotay-Client header, cleared by logout."""
    creds = platform.credentials["member"]
    browser = {"X-Sotay-Client": "web"}
    async with platform.client() as client:
        r = await client.post(
            "/api/v1/auth/login",
            json={"username": creds["username"], "password": creds["password"]},
            headers=browser,
        )
        assert r.status_code == 200, r.text
        assert "refresh_token" not in r.json()
        cookie = r.headers["set-cookie"]
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "samesite=strict", "path=/api/v1/auth"} <= attributes
        assert "secure" not in attributes  # the gateway answered on localhost
        token = r.cookies["sotay_refresh"]

        refused = await client.post(
            "/api/v1/auth/refresh", headers={"cookie": f"sotay_refresh={token}"}
        )
        assert refused.status_code == 403
        assert refused.json()["type"] == "https://sotay.vn/problems/browser-header-required"

        r = await client.post(
            "/api/v1/auth/refresh", headers={"cookie": f"sotay_refresh={token}", **browser}
        )
        assert r.status_code == 200, r.text
        rotated = r.cookies["sotay_refresh"]
        me = await client.get(
            "/api/v1/me", headers={"authorization": f"Bearer {r.json()['access_token']}"}
        )
        assert me.status_code == 200

        r = await client.post(
            "/api/v1/auth/logout", headers={"cookie": f"sotay_refresh={rotated}", **browser}
        )
        assert r.status_code == 204 and "max-age=0" in r.headers["set-cookie"].lower()
        r = await client.post(
            "/api/v1/auth/refresh", headers={"cookie": f"sotay_refresh={rotated}", **browser}
        )
        assert r.status_code == 401
