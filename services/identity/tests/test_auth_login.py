"""Login: card number or phone, uniform refusals, throttling per account and per source,
first-login activation, password policy, audit entries."""

from __future__ import annotations

import asyncio
import time
import unicodedata
from typing import Any

import httpx
import pytest
from sotay_contracts import CloudEvent, parse_event
from sotay_identity.members import activation

DEPUTY = "Hoàng Văn Đảng Viên"  # a plain member of cell_a1a, phone 0912000001
OTHER = "Vũ Thị Đảng Viên"
PROBLEMS = "https://sotay.vn/problems/"


def _without_instance(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "instance"}


async def _audit(identity: Any, action: str = "auth.login") -> list[dict[str, Any]]:
    async with identity.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT actor_id, action, target, host(source) AS source, outcome, details "
            "FROM audit_log WHERE action = $1 ORDER BY seq",
            action,
        )
    return [dict(r) for r in rows]


async def test_login_by_card_number_and_by_phone(identity: Any, tree: Any, login: Any) -> None:
    by_card = await login(DEPUTY)
    assert by_card["token_type"] == "Bearer"
    assert by_card["expires_in"] == identity.settings.access_token_ttl_seconds
    assert by_card["refresh_token"] and by_card["access_token"].count(".") == 2
    assert by_card["second_factor_enrolment_required"] is False

    by_phone = await login(DEPUTY, username="0912000001")
    by_phone_intl = await login(DEPUTY, username="+84 912 000 001")
    for tokens in (by_phone, by_phone_intl):
        me = await identity.client.get(
            "/api/v1/me", headers={"authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.status_code == 200
        assert me.json()["id"] == str(tree.members[DEPUTY])

    response = await identity.client.post(
        "/api/v1/auth/login", json={"username": tree.cards[DEPUTY], "password": "x" * 12}
    )
    assert response.headers["content-type"].startswith("application/problem+json")
    async with identity.pool.acquire() as conn:
        last = await conn.fetchval(
            "SELECT last_login_at FROM accounts WHERE member_id = $1", tree.members[DEPUTY]
        )
    assert last is not None


async def test_wrong_password_and_unknown_user_get_identical_401(
    identity: Any, tree: Any, login: Any
) -> None:
    wrong = await login(DEPUTY, password="không-đúng-mật-khẩu", expect=401)
    unknown = await login(DEPUTY, username="999999-zzzz", expect=401)
    unknown_phone = await login(DEPUTY, username="0999999999", expect=401)
    assert wrong.json() == unknown.json() == unknown_phone.json()
    assert wrong.json()["type"] == PROBLEMS + "invalid-credentials"
    assert wrong.headers.get("retry-after") is None

    # A disabled account answers the same, even with the right password.
    async with identity.pool.acquire() as conn:
        await conn.execute(
            "UPDATE accounts SET disabled = true WHERE member_id = $1", tree.members[OTHER]
        )
    disabled = await login(OTHER, expect=401)
    assert disabled.json() == wrong.json()


async def test_lockout_after_n_failures_even_with_right_password(
    identity: Any, tree: Any, login: Any, password: str
) -> None:
    n = identity.settings.account_max_failures
    for _ in range(n):
        await login(DEPUTY, password="sai-mật-khẩu-rồi", expect=401)
    right = await login(DEPUTY, expect=429)
    wrong = await login(DEPUTY, password="sai-mật-khẩu-rồi", expect=429)
    assert right.json() == wrong.json()
    assert right.json()["type"] == PROBLEMS + "account-locked"
    lock = identity.settings.account_lock_seconds
    assert lock - 5 <= int(right.headers["retry-after"]) <= lock
    assert lock - 5 <= int(wrong.headers["retry-after"]) <= lock

    # Another member is not affected; the lock ends by itself and the counter restarts.
    await login(OTHER)
    async with identity.pool.acquire() as conn:
        await conn.execute(
            "UPDATE accounts SET locked_until = now() - interval '1 second' WHERE member_id = $1",
            tree.members[DEPUTY],
        )
    await login(DEPUTY)
    async with identity.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT failed_logins, locked_until FROM accounts WHERE member_id = $1",
            tree.members[DEPUTY],
        )
    assert row["failed_logins"] == 0 and row["locked_until"] is None


async def test_success_resets_the_account_counter(identity: Any, tree: Any, login: Any) -> None:
    n = identity.settings.account_max_failures
    for _ in range(n - 1):
        await login(DEPUTY, password="sai-mật-khẩu-rồi", expect=401)
    await login(DEPUTY)
    for _ in range(n - 1):
        await login(DEPUTY, password="sai-mật-khẩu-rồi", expect=401)
    await login(DEPUTY)  # not locked: the success in between reset the counter


async def _spray(identity: Any, tree: Any, login: Any) -> None:
    """Wrong passwords from this test's address across accounts — never enough on one account
    to lock it — and unknown usernames, up to the address's threshold."""
    names = list(tree.members)
    limit = identity.settings.source_max_failures
    per_account = identity.settings.account_max_failures - 1
    failures = 0
    for name in names:
        for _ in range(per_account):
            if failures == limit:
                break
            await login(name, password="đoán-bừa-mật-khẩu", expect=401)
            failures += 1
    while failures < limit:  # unknown users count for the source too
        await login(DEPUTY, username=f"unknown-{failures}", password="đoán-bừa", expect=401)
        failures += 1


DELAY, MAX_WAIT = 0.3, 1.5
# Short turns, so the tests measure pacing in seconds, not minutes.
paced = pytest.mark.identity_settings(
    source_delay_seconds=DELAY, source_max_delay_seconds=4 * DELAY, source_max_wait_seconds=MAX_WAIT
)


@paced
async def test_a_spraying_address_is_paced_and_a_flood_refused(
    identity: Any, tree: Any, login: Any
) -> None:
    """Past the threshold, the address's attempts take turns (checked one per turn, each turn
    later than the last), and attempts beyond the longest wait get 429 with Retry-After."""
    delay, max_wait = DELAY, MAX_WAIT
    await _spray(identity, tree, login)

    async def guess(n: int) -> tuple[int, float, httpx.Response]:
        started = time.monotonic()
        r = await identity.client.post(
            "/api/v1/auth/login", json={"username": f"spray-{n}", "password": "đoán-bừa"}
        )
        return r.status_code, time.monotonic() - started, r

    answers = await asyncio.gather(*(guess(n) for n in range(12)))
    checked = sorted(t for status, t, _ in answers if status == 401)
    refused = [r for status, _, r in answers if status == 429]
    assert {status for status, _, _ in answers} <= {401, 429}
    # One check per turn: at most the turns that fit in the longest wait, and the last one
    # checked waited for every turn before it.
    assert 2 <= len(checked) <= 1 + round(max_wait / delay) + 1, checked
    assert checked[-1] >= (len(checked) - 1) * delay * 0.9, checked
    assert refused, "a flood beyond the longest wait is refused"
    for r in refused:
        assert r.json()["type"] == PROBLEMS + "too-many-login-attempts"
        assert int(r.headers["retry-after"]) >= 1
    flood_rows = [r for r in await _audit(identity) if r["outcome"] == "throttled"]
    assert len(flood_rows) == len(refused)
    assert {r["details"]["reason"] for r in flood_rows} == {"source_flooding"}
    assert {r["source"] for r in flood_rows} == {"203.0.113.7"}

    # Another address is not paced, and the accounts themselves are not locked.
    transport = httpx.ASGITransport(app=identity.app, client=("198.51.100.20", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://identity") as other:
        started = time.monotonic()
        await login(OTHER, client=other)
        await login(DEPUTY, client=other)
        assert time.monotonic() - started < delay * 4


@paced
async def test_a_neighbour_behind_a_spraying_address_signs_in(
    identity: Any, tree: Any, login: Any
) -> None:
    """A carrier-grade NAT address shared by thousands: one sprayer (or a village meeting
    mistyping) must not lock out the right password of everyone else behind it — while an
    account attacked from there still locks."""
    await _spray(identity, tree, login)
    await login(OTHER)  # right password, same address: signed in (after its turn)
    await login(DEPUTY)
    for _ in range(identity.settings.account_max_failures):
        await login(OTHER, password="đoán-tiếp", expect=401)
    locked = await login(OTHER, expect=429)
    assert locked.json()["type"] == PROBLEMS + "account-locked"


async def test_activation_code_forces_a_password_change(
    identity: Any, tree: Any, login: Any, password: str
) -> None:
    member_id = tree.members[OTHER]
    code = activation.new_code()
    async with identity.pool.acquire() as conn:
        await conn.execute(
            "UPDATE accounts SET password_hash = NULL, activation_digest = $2, "
            "activation_expires_at = now() + interval '30 days', must_change_password = true, "
            "activated_at = NULL WHERE member_id = $1",
            member_id,
            activation.digest(code),
        )
    refused = await login(OTHER, password=code, expect=403)
    assert refused.json()["type"] == PROBLEMS + "password-change-required"
    assert "access_token" not in refused.text
    # Case and dashes do not matter for a code (it is read back from paper).
    again = await login(OTHER, password=code.replace("-", "").lower(), expect=403)
    assert again.json()["type"] == PROBLEMS + "password-change-required"
    await login(OTHER, password="SAI0-SAI0-SAI0-SAI0-SAI0", expect=401)

    new_password = "Chi bộ thôn Đông 2026!"
    # NFD input (another keyboard) is stored NFC: the NFC login below works.
    change = await identity.client.post(
        "/api/v1/auth/password",
        json={
            "username": tree.cards[OTHER],
            "current_password": code,
            "new_password": unicodedata.normalize("NFD", new_password),
        },
    )
    assert change.status_code == 204, change.text

    tokens = await login(OTHER, password=new_password)
    assert tokens["access_token"]
    await login(OTHER, password=code, expect=401)  # the code works once
    async with identity.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT activation_digest, must_change_password, password_changed_at, "
            "activated_at, password_hash FROM accounts WHERE member_id = $1",
            member_id,
        )
    assert row["activation_digest"] is None and row["must_change_password"] is False
    assert row["password_changed_at"] is not None and row["activated_at"] is not None
    assert row["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    changed = await _audit(identity, "auth.password_changed")
    assert [r["outcome"] for r in changed] == ["success"]
    assert changed[0]["details"]["first_password"] is True

    # The account became usable: one identity.account.activated.v1 (adoption reports), and a
    # later password change does not fire it again.
    later = await identity.client.post(
        "/api/v1/auth/password",
        json={
            "username": tree.cards[OTHER],
            "current_password": new_password,
            "new_password": "Một mật khẩu khác hẳn 2027",
        },
    )
    assert later.status_code == 204, later.text
    rows = await identity.pool.fetch(
        "SELECT headers, body FROM outbox WHERE subject = 'identity.account.activated.v1'"
    )
    events = [parse_event(CloudEvent.from_nats(r["headers"], r["body"])) for r in rows]
    assert [(e.member_id, e.cell_id, e.org_path) for e in events] == [
        (member_id, tree.ids["cell_b1"], tree.paths["cell_b1"])
    ]


async def test_expired_activation_code_is_refused(identity: Any, tree: Any, login: Any) -> None:
    code = activation.new_code()
    async with identity.pool.acquire() as conn:
        await conn.execute(
            "UPDATE accounts SET password_hash = NULL, activation_digest = $2, "
            "activation_expires_at = now() - interval '1 minute' WHERE member_id = $1",
            tree.members[OTHER],
            activation.digest(code),
        )
    refused = await login(OTHER, password=code, expect=401)
    assert refused.json()["type"] == PROBLEMS + "invalid-credentials"


async def test_must_change_password_flag(
    identity: Any, tree: Any, login: Any, password: str
) -> None:
    async with identity.pool.acquire() as conn:
        await conn.execute(
            "UPDATE accounts SET must_change_password = true WHERE member_id = $1",
            tree.members[DEPUTY],
        )
    refused = await login(DEPUTY, expect=403)
    assert refused.json()["type"] == PROBLEMS + "password-change-required"
    change = await identity.client.post(
        "/api/v1/auth/password",
        json={
            "username": "0912000001",
            "current_password": password,
            "new_password": "một mật khẩu mới dài",
        },
    )
    assert change.status_code == 204, change.text
    await login(DEPUTY, password="một mật khẩu mới dài")
    await login(DEPUTY, expect=401)


@pytest.mark.parametrize(
    ("new_password", "reason"),
    [
        ("ngắn-quá", "ít nhất 10"),
        ("PASSWORD-SAME", "khác mật khẩu"),
        ("CARD", "trùng số thẻ"),
        ("0912000001", "trùng số thẻ"),
        ("aaaaaaaaaaaa", "quá đơn giản"),
    ],
)
async def test_password_policy(
    identity: Any, tree: Any, login: Any, password: str, new_password: str, reason: str
) -> None:
    tokens = await login(DEPUTY)
    if new_password == "PASSWORD-SAME":
        new_password = unicodedata.normalize("NFD", password)
    if new_password == "CARD":
        new_password = tree.cards[DEPUTY].upper()
    response = await identity.client.post(
        "/api/v1/auth/password",
        json={"current_password": password, "new_password": new_password},
        headers={"authorization": f"Bearer {tokens['access_token']}"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["type"] == PROBLEMS + "weak-password"
    assert reason in response.json()["detail"]


async def test_authenticated_password_change_revokes_sessions(
    identity: Any, tree: Any, login: Any, password: str
) -> None:
    first = await login(DEPUTY)
    second = await login(DEPUTY)
    auth = {"authorization": f"Bearer {second['access_token']}"}
    wrong = await identity.client.post(
        "/api/v1/auth/password",
        json={"current_password": "không phải", "new_password": "mật khẩu mới 2026"},
        headers=auth,
    )
    assert wrong.status_code == 401 and wrong.json()["type"] == PROBLEMS + "invalid-credentials"
    ok = await identity.client.post(
        "/api/v1/auth/password",
        json={"current_password": password, "new_password": "mật khẩu mới 2026"},
        headers=auth,
    )
    assert ok.status_code == 204, ok.text
    for tokens in (first, second):
        refreshed = await identity.client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 401
    await login(DEPUTY, password="mật khẩu mới 2026")
    failures = [r for r in await _audit(identity, "auth.password_changed")]
    assert [r["outcome"] for r in failures] == ["failure", "success"]


async def test_unauthenticated_password_change_is_throttled_like_login(
    identity: Any, tree: Any, login: Any, password: str
) -> None:
    for _ in range(identity.settings.account_max_failures):
        response = await identity.client.post(
            "/api/v1/auth/password",
            json={
                "username": tree.cards[DEPUTY],
                "current_password": "sai sai sai",
                "new_password": "mật khẩu mới 2026",
            },
        )
        assert response.status_code == 401
    locked = await identity.client.post(
        "/api/v1/auth/password",
        json={
            "username": tree.cards[DEPUTY],
            "current_password": password,
            "new_password": "mật khẩu mới 2026",
        },
    )
    assert locked.status_code == 429 and "retry-after" in locked.headers
    await login(DEPUTY, expect=429)


async def test_every_attempt_is_audited_without_secrets(
    identity: Any, tree: Any, login: Any, password: str
) -> None:
    await login(DEPUTY)
    await login(DEPUTY, password="sai-mật-khẩu-rồi", expect=401)
    await login(DEPUTY, username="0900000000", password="đoán-thử-xem", expect=401)
    rows = await _audit(identity)
    assert [r["outcome"] for r in rows] == ["success", "failure", "failure"]
    member_id = tree.members[DEPUTY]
    assert rows[0]["actor_id"] == member_id and rows[0]["details"]["method"] == "card"
    assert rows[1]["actor_id"] == member_id
    assert rows[1]["details"] == {"reason": "wrong_password"}
    assert rows[2]["actor_id"] is None and rows[2]["details"] == {"reason": "unknown_account"}
    assert all(r["source"] == "203.0.113.7" for r in rows)
    async with identity.pool.acquire() as conn:
        dump = await conn.fetchval("SELECT string_agg(audit_log::text, '|') FROM audit_log")
        chain = await conn.fetchval("SELECT count(*) FROM audit_log")
    for secret in (password, "sai-mật-khẩu-rồi", "đoán-thử-xem", "0900000000", DEPUTY):
        assert secret not in dump
    assert chain == 3


async def test_a_burst_of_failed_logins_does_not_starve_the_pool(
    identity: Any, tree: Any, login: Any
) -> None:
    """More concurrent refusals than pooled connections: each attempt holds one connection
    at a time, so all finish (none waits for a second connection held by its neighbours)."""
    import asyncio

    burst = identity.settings.db_pool_max * 2
    responses = await asyncio.wait_for(
        asyncio.gather(
            *(
                login(DEPUTY, username=f"khong-co-{i}", password="đoán-bừa-thôi", expect=401)
                for i in range(burst)
            )
        ),
        timeout=30,
    )
    assert len(responses) == burst
    await login(OTHER)


async def test_nfd_input_and_rehash_on_parameter_change(
    identity: Any, tree: Any, login: Any, password: str
) -> None:
    from argon2 import PasswordHasher

    # The same Vietnamese password typed as decomposed characters logs in.
    await login(DEPUTY, password=unicodedata.normalize("NFD", password))
    # A hash made with other parameters (older settings) is replaced at the next login.
    old = PasswordHasher(time_cost=3, memory_cost=19 * 1024, parallelism=1).hash(password)
    async with identity.pool.acquire() as conn:
        await conn.execute(
            "UPDATE accounts SET password_hash = $2 WHERE member_id = $1",
            tree.members[DEPUTY],
            old,
        )
    await login(DEPUTY)
    async with identity.pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT password_hash FROM accounts WHERE member_id = $1", tree.members[DEPUTY]
        )
    assert stored != old and "$m=19456,t=2,p=1$" in stored
    await login(DEPUTY)


def test_throttling_bucket_and_phone_spellings() -> None:
    from sotay_identity.auth.service import AuthEnv, phone_candidates

    def bucket(source: str) -> str:
        return AuthEnv(None, None, None, source).source_key  # type: ignore[arg-type]

    assert bucket("203.0.113.7") == "203.0.113.7"
    assert bucket("2001:db8:1:2:aaaa::1") == bucket("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert bucket("::ffff:203.0.113.7") == "203.0.113.7"
    assert bucket("not-an-address") == "0.0.0.0"
    assert {"0912000001", "84912000001", "+84912000001"} <= set(phone_candidates("+84 912 000 001"))
    assert "0912000001" in phone_candidates("84912000001")
    assert phone_candidates("000006-abcd") == []
