"""Identity authentication: logins/s (with the argon2 cost beside it) and access-token
verifications/s of kit's ``TokenVerifier`` ÷ raw PyJWT ``jwt.decode`` (§11).

- argon2 cost: one ``PasswordHasher.hash`` and one ``verify`` at the service's parameters
  (argon2id, m=19 MiB, t=2, p=1), timed alone in this process (median of several). A login
  verifies one hash, so ``cores / verify_time`` is the ceiling logins/s can approach.
- logins/s: ``POST /api/v1/auth/login`` through the identity ASGI app in-process (httpx
  ``ASGITransport``) against a fresh identity database: throttling checks, argon2 verify, the
  counters, grants, an Ed25519-signed access token, a stored refresh token, a hash-chained audit
  entry. Measured one at a time and with concurrent clients (distinct members).
- verifications/s: the same access token, verified again and again by kit's ``TokenVerifier``
  (key cached by ``kid``; header checks, EdDSA signature, iss/aud/exp, claims model) and by a
  bare ``jwt.decode`` with the same key, algorithm, audience and issuer.

    uv run python -m bench.identity_auth [-n 20000] [--own]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
import uuid
from typing import Any

import asyncpg
import httpx
import jwt
from argon2 import PasswordHasher, Type
from sotay_identity.app import SPEC, create_app
from sotay_identity.settings import IdentitySettings
from sotay_kit import migrations
from sotay_kit.auth import TokenVerifier

from ._infra import BenchInfra, arg_parser, bench_infra, quiet_logs

DEFAULT_N = 20_000  # token verifications per side
LOGINS = 300
SEQUENTIAL_LOGINS = 40
CONCURRENCY = 16
MEMBERS = 64
HASH_SAMPLES = 15
PASSWORD = "Mật-khẩu-đo-hiệu-năng-2026"  # noqa: S105 - the benchmark members' password


async def _admin(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _hasher(settings: IdentitySettings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def argon2_cost(settings: IdentitySettings) -> dict[str, float]:
    """Median seconds of one hash and one verify, alone, on one thread."""
    hasher = _hasher(settings)
    hashes, verifies = [], []
    stored = hasher.hash(PASSWORD)
    for _ in range(HASH_SAMPLES):
        t0 = time.perf_counter()
        hasher.hash(PASSWORD)
        hashes.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        verifies.append(time.perf_counter() - t0)
    return {"hash_s": statistics.median(hashes), "verify_s": statistics.median(verifies)}


async def _seed(dsn: str, password_hash: str) -> list[str]:
    """A province with one cell and ``MEMBERS`` members sharing one password; their cards."""
    conn = await asyncpg.connect(dsn)
    try:
        province, cell = uuid.uuid4(), uuid.uuid4()
        await conn.execute(
            "INSERT INTO org_units (id, key, parent_id, path, title, kind) VALUES "
            "($1, 1, NULL, '1', 'Đảng bộ tỉnh Đo Đạc', 'province'), "
            "($2, 2, $1, '1.2', 'Chi bộ thôn Đo Đạc', 'cell')",
            province,
            cell,
        )
        cards = [f"BENCH{i:06d}" for i in range(MEMBERS)]
        ids = [uuid.uuid4() for _ in cards]
        await conn.executemany(
            "INSERT INTO members (id, card_number, full_name, search_name, cell_id) "
            "VALUES ($1, $2, 'Đảng viên đo hiệu năng', 'dang vien do hieu nang', $3)",
            [(i, c, cell) for i, c in zip(ids, cards, strict=True)],
        )
        await conn.executemany(
            "INSERT INTO accounts (member_id, password_hash, must_change_password, "
            "activated_at) VALUES ($1, $2, false, now())",
            [(i, password_hash) for i in ids],
        )
        await conn.execute(
            "INSERT INTO role_grants (id, member_id, role, org_id) "
            "VALUES ($1, $2, 'cell_secretary', $3)",
            uuid.uuid4(),
            ids[0],
            cell,
        )
    finally:
        await conn.close()
    return cards


async def _logins(
    client: httpx.AsyncClient, cards: list[str], total: int, concurrency: int
) -> tuple[float, str]:
    """Seconds for ``total`` successful logins by ``concurrency`` clients; one access token."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(cards[i % len(cards)])
    token = ""

    async def worker() -> None:
        nonlocal token
        while True:
            try:
                card = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            response = await client.post(
                "/api/v1/auth/login", json={"username": card, "password": PASSWORD}
            )
            if response.status_code != 200:
                raise RuntimeError(f"login failed: {response.status_code} {response.text}")
            token = response.json()["access_token"]

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, token


async def _verifications(
    app: Any, settings: IdentitySettings, token: str, n: int
) -> tuple[float, float]:
    """Seconds for ``n`` verifications by kit's TokenVerifier and by a bare jwt.decode."""
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://identity.internal"
    )
    verifier = TokenVerifier(
        "http://identity.internal/api/v1/auth/jwks",
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        client=client,
    )
    try:
        await verifier.verify(token)  # fetches the JWKS once; the key is cached from here on
        start = time.perf_counter()
        for _ in range(n):
            await verifier.verify(token)
        kit_s = time.perf_counter() - start
        jwks = (await client.get("/api/v1/auth/jwks")).json()
    finally:
        await verifier.aclose()
        await client.aclose()
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
    start = time.perf_counter()
    for _ in range(n):
        jwt.decode(
            token,
            key,
            algorithms=["EdDSA"],
            audience=settings.token_audience,
            issuer=settings.token_issuer,
        )
    raw_s = time.perf_counter() - start
    return kit_s, raw_s


async def main(infra: BenchInfra, n: int = DEFAULT_N) -> dict[str, Any]:
    database = f"bench_{infra.tag}_idauth"
    await _admin(infra.admin_dsn, f'CREATE DATABASE "{database}"')
    try:
        dsn = infra.dsn(database)
        await migrations.upgrade_async(dsn, SPEC.versions_dir)
        settings = IdentitySettings(
            environment="test",
            database_url=dsn,
            nats_url=infra.nats_url,
            run_outbox_relay=False,
            run_consumers=False,
            log_level="WARNING",
        )
        cost = await asyncio.to_thread(argon2_cost, settings)
        cards = await _seed(dsn, _hasher(settings).hash(PASSWORD))
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("198.51.100.1", 40000))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://identity", timeout=60
            ) as client:
                await _logins(client, cards, 4, 1)  # warm-up: dummy hash, key cache, pool
                seq_s, _ = await _logins(client, cards, SEQUENTIAL_LOGINS, 1)
                conc_s, token = await _logins(client, cards, LOGINS, CONCURRENCY)
            kit_s, raw_s = await _verifications(app, settings, token, n)
    finally:
        with contextlib.suppress(Exception):
            await _admin(infra.admin_dsn, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    cores = os.cpu_count() or 1
    ceiling_one = 1 / cost["verify_s"]
    seq_rate, conc_rate = SEQUENTIAL_LOGINS / seq_s, LOGINS / conc_s
    kit_rate, raw_rate = n / kit_s, n / raw_s
    result = {
        "argon2": {
            "params": {
                "m_kib": settings.argon2_memory_kib,
                "t": settings.argon2_time_cost,
                "p": settings.argon2_parallelism,
            },
            "hash_ms": round(cost["hash_s"] * 1000, 2),
            "verify_ms": round(cost["verify_s"] * 1000, 2),
            "verifies_per_s_one_core": round(ceiling_one, 1),
        },
        "cores": cores,
        "logins_sequential_per_s": round(seq_rate, 1),
        "logins_concurrent_per_s": round(conc_rate, 1),
        "login_concurrency": CONCURRENCY,
        # How close logins come to argon2 alone (1.0 = the rest of a login costs nothing).
        "sequential_vs_one_verify": round(seq_rate / ceiling_one, 3),
        "concurrent_vs_all_cores": round(conc_rate / (ceiling_one * cores), 3),
        "verifications": n,
        "kit_verifier_per_s": round(kit_rate, 1),
        "raw_jwt_decode_per_s": round(raw_rate, 1),
        "ratio": round(kit_rate / raw_rate, 3),
        "aim": 0.5,
    }
    print(
        f"argon2id m={settings.argon2_memory_kib} KiB t={settings.argon2_time_cost} "
        f"p={settings.argon2_parallelism}: hash {result['argon2']['hash_ms']} ms, verify "
        f"{result['argon2']['verify_ms']} ms → {ceiling_one:,.1f} verifies/s per core "
        f"({cores} cores)"
    )
    print(
        f"logins: {seq_rate:,.1f}/s one at a time ({result['sequential_vs_one_verify']:.2f} of "
        f"1/verify), {conc_rate:,.1f}/s with {CONCURRENCY} clients "
        f"({result['concurrent_vs_all_cores']:.2f} of cores/verify)"
    )
    print(
        f"token verification: kit TokenVerifier {kit_rate:,.0f}/s, raw jwt.decode "
        f"{raw_rate:,.0f}/s, ratio {result['ratio']:.2f} (aim >= 0.5)"
    )
    return result


async def _run(n: int, own: bool) -> dict[str, Any]:
    async with bench_infra(own=own) as infra:
        print(f"bench: infrastructure = {infra.source}")
        return await main(infra, n=n)


def run(n: int = DEFAULT_N, *, own: bool = False) -> dict[str, Any]:
    """The benchmark on its own infrastructure (the running stack's, or private servers)."""
    return asyncio.run(_run(n, own))


if __name__ == "__main__":
    args = arg_parser(__doc__, DEFAULT_N).parse_args()
    quiet_logs()
    run(args.n, own=args.own)
