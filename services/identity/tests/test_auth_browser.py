"""Browser mode of login/refresh/logout (DESIGN.md §12): the refresh token travels only in an
HttpOnly, SameSite=Strict cookie scoped to /api/v1/auth, and is accepted from that cookie only
with the X-Sotay-Client header a cross-site form cannot send."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest
from sotay_identity.settings import IdentitySettings

from .conftest import PASSWORD

MEMBER = "Hoàng Văn Đảng Viên"
PROBLEMS = "https://sotay.vn/problems/"
BROWSER = {"X-Sotay-Client": "web"}


def _cookie(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    """The value and attributes of the one refresh-token Set-Cookie of ``response``."""
    headers = response.headers.get_list("set-cookie")
    assert len(headers) == 1, headers
    raw = headers[0]
    jar: SimpleCookie = SimpleCookie()
    jar.load(raw)
    morsel = jar["sotay_refresh"]
    flags = {part.strip().split("=")[0].lower() for part in raw.split(";")}
    return morsel.value, {
        "path": morsel["path"],
        "samesite": morsel["samesite"].lower(),
        "max-age": morsel["max-age"],
        "httponly": "httponly" in flags,
        "secure": "secure" in flags,
    }


async def _browser_login(identity: Any, tree: Any, client: httpx.AsyncClient | None = None) -> Any:
    response = await (client or identity.client).post(
        "/api/v1/auth/login",
        json={"username": tree.cards[MEMBER], "password": PASSWORD},
        headers=BROWSER,
    )
    assert response.status_code == 200, response.text
    return response


def _with_cookie(token: str, **headers: str) -> dict[str, str]:
    return {"cookie": f"sotay_refresh={token}", **headers}


async def test_login_sets_the_cookie_and_keeps_the_token_out_of_the_body(
    identity: Any, tree: Any
) -> None:
    response = await _browser_login(identity, tree)
    body = response.json()
    assert "refresh_token" not in body and body["access_token"]
    assert response.headers["cache-control"] == "no-store"
    token, attrs = _cookie(response)
    assert token and token not in response.text
    assert attrs == {
        "path": "/api/v1/auth",
        "samesite": "strict",
        "max-age": str(identity.settings.refresh_token_ttl_seconds),
        "httponly": True,
        "secure": True,  # the request came to http://identity, not to localhost
    }


async def test_cookie_is_not_secure_only_on_localhost(identity: Any, tree: Any) -> None:
    transport = httpx.ASGITransport(app=identity.app, client=("127.0.0.1", 50000))
    for host, secure in (("localhost", False), ("127.0.0.1", False), ("sotay.example.vn", True)):
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as client:
            _, attrs = _cookie(await _browser_login(identity, tree, client))
            assert attrs["secure"] is secure, host


def test_production_refuses_an_insecure_cookie_and_never_exempts_localhost() -> None:
    key = "c290YXktcHJvZHVjdGlvbi1rZXktZm9yLXRlc3RzLTA="
    production = {
        "environment": "production",
        "data_key": key,
        "nats_password": "a-real-secret",
        "s3_secret_key": "another-real-secret",
        "database_url": "postgresql://identity:pw@db.internal:5432/identity",
        "jwks_url": "https://sotay.vn/api/v1/auth/jwks",
    }
    with pytest.raises(ValueError, match="cookie_secure"):
        IdentitySettings(**production, cookie_secure=False)
    assert IdentitySettings(**production).refresh_cookie_secure("localhost") is True


async def test_refresh_by_cookie_needs_the_header(identity: Any, tree: Any) -> None:
    token, _ = _cookie(await _browser_login(identity, tree))

    refused = await identity.client.post("/api/v1/auth/refresh", headers=_with_cookie(token))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"] == PROBLEMS + "browser-header-required"
    assert "X-Sotay-Client" in problem["detail"]
    # A wrong header value is no better than none.
    wrong = await identity.client.post(
        "/api/v1/auth/refresh", headers=_with_cookie(token, **{"X-Sotay-Client": "form"})
    )
    assert wrong.status_code == 403

    # The refused attempts did not spend the token: with the header it rotates.
    response = await identity.client.post(
        "/api/v1/auth/refresh", headers=_with_cookie(token, **BROWSER)
    )
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()
    rotated, attrs = _cookie(response)
    assert rotated != token and attrs["httponly"] and attrs["path"] == "/api/v1/auth"
    me = await identity.client.get(
        "/api/v1/me", headers={"authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert me.json()["id"] == str(tree.members[MEMBER])


async def test_refresh_without_any_token_is_a_clear_401(identity: Any, tree: Any) -> None:
    for headers in ({}, BROWSER):
        response = await identity.client.post("/api/v1/auth/refresh", headers=headers)
        assert response.status_code == 401
        assert response.json()["type"] == PROBLEMS + "invalid-refresh-token"
        assert "đăng nhập lại" in response.json()["detail"]


async def test_reuse_of_a_rotated_cookie_revokes_the_family(identity: Any, tree: Any) -> None:
    first, _ = _cookie(await _browser_login(identity, tree))
    r = await identity.client.post("/api/v1/auth/refresh", headers=_with_cookie(first, **BROWSER))
    second, _ = _cookie(r)

    replay = await identity.client.post(
        "/api/v1/auth/refresh", headers=_with_cookie(first, **BROWSER)
    )
    assert replay.status_code == 401
    assert replay.json()["type"] == PROBLEMS + "invalid-refresh-token"
    _, cleared = _cookie(replay)  # the dead cookie is dropped with the answer
    assert cleared["max-age"] == "0"
    # The family is gone: the newest cookie no longer works either.
    newest = await identity.client.post(
        "/api/v1/auth/refresh", headers=_with_cookie(second, **BROWSER)
    )
    assert newest.status_code == 401
    async with identity.pool.acquire() as conn:
        outcome = await conn.fetchval(
            "SELECT outcome FROM audit_log WHERE action = 'auth.refresh' AND actor_id = $1",
            tree.members[MEMBER],
        )
    assert outcome == "reuse_detected"


async def test_logout_clears_the_cookie_and_revokes_this_device_only(
    identity: Any, tree: Any, login: Any
) -> None:
    token, _ = _cookie(await _browser_login(identity, tree))
    other_device = await login(MEMBER)

    without_header = await identity.client.post("/api/v1/auth/logout", headers=_with_cookie(token))
    assert without_header.status_code == 403

    response = await identity.client.post(
        "/api/v1/auth/logout", headers=_with_cookie(token, **BROWSER)
    )
    assert response.status_code == 204
    value, attrs = _cookie(response)
    assert value == "" and attrs["max-age"] == "0" and attrs["path"] == "/api/v1/auth"
    again = await identity.client.post(
        "/api/v1/auth/refresh", headers=_with_cookie(token, **BROWSER)
    )
    assert again.status_code == 401
    other = await identity.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": other_device["refresh_token"]}
    )
    assert other.status_code == 200
    # Logging out with no cookie left still answers 204 and clears it.
    assert (await identity.client.post("/api/v1/auth/logout", headers=BROWSER)).status_code == 204


async def test_sign_out_of_all_devices(identity: Any, tree: Any, login: Any) -> None:
    token, _ = _cookie(await _browser_login(identity, tree))
    phone = await login(MEMBER)
    tablet = await login(MEMBER)
    someone_else = await login("Vũ Thị Đảng Viên")

    response = await identity.client.post(
        "/api/v1/auth/logout", json={"all_devices": True}, headers=_with_cookie(token, **BROWSER)
    )
    assert response.status_code == 204
    assert _cookie(response)[1]["max-age"] == "0"
    for session in (phone, tablet):
        r = await identity.client.post(
            "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
        )
        assert r.status_code == 401
    r = await identity.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": someone_else["refresh_token"]}
    )
    assert r.status_code == 200


async def test_a_stale_token_cannot_sign_out_every_device(
    identity: Any, tree: Any, login: Any
) -> None:
    old = await login(MEMBER)
    await identity.client.post("/api/v1/auth/refresh", json={"refresh_token": old["refresh_token"]})
    other_device = await login(MEMBER)
    await identity.client.post(
        "/api/v1/auth/logout", json={"refresh_token": old["refresh_token"], "all_devices": True}
    )
    r = await identity.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": other_device["refresh_token"]}
    )
    assert r.status_code == 200


async def test_json_mode_is_unchanged_and_sets_no_cookie(
    identity: Any, tree: Any, login: Any
) -> None:
    response = await identity.client.post(
        "/api/v1/auth/login", json={"username": tree.cards[MEMBER], "password": PASSWORD}
    )
    assert response.json()["refresh_token"] and "set-cookie" not in response.headers
    missing = await identity.client.post("/api/v1/auth/logout", json={})
    assert missing.status_code == 401
