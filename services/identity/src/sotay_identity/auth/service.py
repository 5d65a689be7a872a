"""Authentication use cases: login, refresh, logout, password change, second factor, ``/me``.

Second-factor policy (DESIGN.md §8)
-----------------------------------
- Holders of an ``org_admin`` or ``operator`` grant must use TOTP (RFC 6238). Until they have
  enrolled, a password login still succeeds — so they can reach the enrolment endpoints — but
  the access token carries **no** ``org_admin``/``operator`` grant and the token response says
  ``"second_factor_enrolment_required": true``. The same stripping applies on every refresh.
- Any member may enrol. Once the second factor is enabled, a login (and the unauthenticated
  password change) needs ``otp``: without it the answer is 401 ``second-factor-required``; a
  wrong or replayed code is 401 ``invalid-credentials`` and counts as a failed attempt.
- Enrolment: ``POST /auth/totp`` stores a new secret (encrypted, not yet enabled),
  ``POST /auth/totp/confirm`` enables it with a first valid code and revokes every refresh-token
  family of the member, so no session established without the second factor outlives it.
- Members may disable their second factor; holders of a privileged grant may not.

Failure bookkeeping and connections
-----------------------------------
Everything that must outlive an error answer — failed-attempt counters, locks, the audit entry
of a refused login, the revocation of a refresh-token family on reuse — is committed before the
problem is raised. Login, refresh and the password change therefore run their own short
transactions (from the pool) rather than the request's, and hold at most one connection at a
time: a request holding the request's connection while waiting for a second one for its
bookkeeping could starve the pool under a burst of failed logins, and two transactions of one
request can wait on each other's row locks (a conditional UPDATE that loses a race keeps the
row locked even though it updated nothing) — a wait Postgres cannot see as a deadlock. No
connection is held while argon2 runs (tens of milliseconds).

Uniform answers
---------------
Unknown user, wrong password, expired activation code, disabled account or inactive member: the
same 401 ``invalid-credentials`` body, and an argon2 verification is spent on every path (a dummy
hash for unknown users), so neither the answer nor its timing tells whether an account exists.
A locked account answers 429 ``account-locked`` before any secret is checked, so the answer is
the same whether or not the password was right.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from sotay_contracts.events.identity import AccountActivated
from sotay_kit import db, outbox
from sotay_kit.auth import Principal
from sotay_kit.clock import utc_now
from sotay_kit.db import Connection
from sotay_kit.errors import BadRequest, Forbidden, NotFound

from ..audit import repository as audit
from ..crypto import DataCipher
from ..members import activation
from ..problems import (
    AccountLocked,
    InvalidCredentials,
    InvalidOtp,
    InvalidRefreshToken,
    PasswordChangeRequired,
    SecondFactorAlreadyEnabled,
    SecondFactorMandatory,
    SecondFactorNotPending,
    SecondFactorRequired,
    SourceThrottled,
)
from ..settings import IdentitySettings
from . import keys, passwords, repository, totp
from .repository import Account, Subject
from .tokens import (
    PRIVILEGED_ROLES,
    EffectiveGrants,
    effective_grants,
    issue_access_token,
    new_refresh_token,
    refresh_digest,
)

log = logging.getLogger("sotay.identity.auth")

ACTIVE_STATUSES = frozenset({"active", "exempt"})
LOGIN = "auth.login"
PASSWORD_CHANGED = "auth.password_changed"  # noqa: S105 - an audit action
_SOURCE_HOUSEKEEPING_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class AuthEnv:
    """What the use cases need besides the request's connection."""

    pool: db.Pool
    settings: IdentitySettings
    cipher: DataCipher
    source: str  # the caller's address, as audited
    now: datetime = field(default_factory=utc_now)  # the request's clock (kit's ``Now``)

    @property
    def source_key(self) -> str:
        """The throttling bucket: the IPv4 address, or the IPv6 /64 (one subscriber's LAN)."""
        try:
            address = ipaddress.ip_address(self.source)
        except ValueError:
            return "0.0.0.0"
        if isinstance(address, ipaddress.IPv6Address):
            if address.ipv4_mapped is not None:
                return str(address.ipv4_mapped)
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
        return str(address)


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    enrolment_required: bool


@dataclass(frozen=True, slots=True)
class _Authenticated:
    account: Account
    otp_step: int | None
    new_hash: str | None  # a rehash at the current argon2 parameters, if they changed
    method: Literal["card", "phone"]


# ── helpers ─────────────────────────────────────────────────────────────────────────────

_PHONE_LIKE = re.compile(r"^\+?[0-9 .()\-]{8,20}$")


def phone_candidates(username: str) -> list[str]:
    """Spellings of a phone number as it may be stored: as typed, digits only, 0-prefixed."""
    if not _PHONE_LIKE.match(username):
        return []
    digits = re.sub(r"\D", "", username)
    out = [username, digits]
    if digits.startswith("84") and len(digits) >= 10:
        out += ["0" + digits[2:], "+" + digits]
    elif digits.startswith("0"):
        out += ["84" + digits[1:], "+84" + digits[1:]]
    return list(dict.fromkeys(out))


def _seconds_until(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


async def _record_failure(
    conn: Connection,
    env: AuthEnv,
    action: str,
    *,
    reason: str,
    account: Account | None,
    count_account: bool = True,
) -> None:
    """A failed attempt: counters, maybe a lock, the audit entry (committed by the caller's
    transaction even though the answer is an error)."""
    s = env.settings
    if account is not None and count_account:
        await repository.record_account_failure(
            conn,
            account.member_id,
            max_failures=s.account_max_failures,
            lock_seconds=s.account_lock_seconds,
        )
    await repository.record_source_failure(
        conn, env.source_key, window_seconds=s.source_window_seconds
    )
    if random.random() < 0.01:  # noqa: S311 - housekeeping sampling, not security
        await repository.forget_old_sources(conn, _SOURCE_HOUSEKEEPING_SECONDS)
    await audit.record(
        conn,
        action,
        outcome="failure",
        actor_id=account.member_id if account else None,
        source=env.source,
        details={"reason": reason},
    )


async def _fail(
    env: AuthEnv,
    action: str,
    *,
    reason: str,
    account: Account | None,
    count_account: bool = True,
) -> InvalidCredentials:
    async with db.transaction(env.pool) as conn:
        await _record_failure(
            conn, env, action, reason=reason, account=account, count_account=count_account
        )
    return InvalidCredentials()


async def _audit_alone(
    env: AuthEnv, action: str, outcome: str, actor_id: UUID | None, details: dict[str, Any]
) -> None:
    async with db.transaction(env.pool) as conn:
        await audit.record(
            conn, action, outcome=outcome, actor_id=actor_id, source=env.source, details=details
        )


async def _source_turn(env: AuthEnv, action: str) -> None:
    """Pacing of a source address over the failure threshold (docs/identity.md, "Throttling").

    Its attempts are not refused: each waits here for its turn (no connection held) and is
    then checked like any other, so correct credentials from a shared address get through.
    Only an attempt whose turn is further away than ``source_max_wait_seconds`` — a flood — is
    answered 429 with ``Retry-After`` unchecked."""
    s = env.settings
    async with db.transaction(env.pool) as conn:
        turn = await repository.take_source_turn(
            conn,
            env.source_key,
            max_failures=s.source_max_failures,
            window_seconds=s.source_window_seconds,
            delay_seconds=s.source_delay_seconds,
            max_delay_seconds=s.source_max_delay_seconds,
            doubling_every=s.source_delay_doubling_every,
            max_wait_seconds=s.source_max_wait_seconds,
        )
    if turn is None:
        return
    if turn.retry_after is not None:
        await _audit_alone(env, action, "throttled", None, {"reason": "source_flooding"})
        raise SourceThrottled(turn.retry_after)
    if turn.wait > 0:
        await asyncio.sleep(turn.wait)


async def _check_secret(env: AuthEnv, account: Account, secret: str) -> tuple[bool, str | None]:
    """(matches, rehash). The password, or — before the first password — the activation code.

    One argon2 verification is spent on every path.
    """
    if account.password_hash is not None:
        ok, needs_rehash = await passwords.verify_password(
            env.settings, account.password_hash, secret
        )
        if ok and needs_rehash:
            return True, await passwords.hash_password(env.settings, secret)
        return ok, None
    await passwords.spend_equal_time(env.settings, secret)
    if account.activation_digest is None:
        return False, None
    if account.activation_expires_at is not None and account.activation_expires_at <= account.now:
        return False, None
    return activation.matches(secret, account.activation_digest), None


def _check_lock(account: Account) -> int | None:
    if account.locked_until is not None and account.locked_until > account.now:
        return _seconds_until(account.locked_until, account.now)
    return None


async def _load(
    env: AuthEnv, action: str, *, username: str | None = None, member_id: UUID | None = None
) -> Account | None:
    """The source's turn, then the account lookup (a short read; no connection is held
    afterwards)."""
    await _source_turn(env, action)
    async with env.pool.acquire() as conn:
        if member_id is not None:
            return await repository.get_account(conn, member_id)
        assert username is not None
        return await repository.find_account(conn, username, phone_candidates(username))


async def _verify_secret(env: AuthEnv, account: Account, secret: str, action: str) -> str | None:
    """Lock check, then the secret. Returns a rehash of the password when one is due."""
    locked_for = _check_lock(account)
    if locked_for is not None:
        await _audit_alone(env, action, "locked", account.member_id, {"reason": "account_locked"})
        raise AccountLocked(locked_for)
    ok, new_hash = await _check_secret(env, account, secret)
    if not ok:
        reason = "wrong_activation_code" if account.activation_pending else "wrong_password"
        raise await _fail(env, action, reason=reason, account=account)
    return new_hash


async def _authenticate(
    env: AuthEnv, username: str, secret: str, otp: str | None, *, action: str
) -> _Authenticated:
    """Source throttle, account lock, secret, second factor. Raises on any failure after
    committing its bookkeeping. No connection is held while argon2 runs."""
    username = passwords.normalise(username.strip())
    account = await _load(env, action, username=username)
    if account is None:
        await passwords.spend_equal_time(env.settings, secret)
        raise await _fail(env, action, reason="unknown_account", account=None)
    new_hash = await _verify_secret(env, account, secret, action)
    if account.disabled or account.member_status not in ACTIVE_STATUSES:
        raise await _fail(
            env, action, reason="account_disabled", account=account, count_account=False
        )
    step: int | None = None
    if account.totp_enabled and account.totp_secret_enc is not None:
        if not otp:
            await _audit_alone(
                env,
                action,
                "second_factor_required",
                account.member_id,
                {"reason": "otp_missing"},
            )
            raise SecondFactorRequired()
        secret_b32 = env.cipher.decrypt(account.totp_secret_enc, totp.secret_aad(account.member_id))
        step = totp.matching_step(secret_b32, otp)
        if step is None or (account.totp_last_step is not None and step <= account.totp_last_step):
            reason = "wrong_otp" if step is None else "replayed_otp"
            raise await _fail(env, action, reason=reason, account=account)
    method: Literal["card", "phone"] = "card" if account.card_number == username else "phone"
    return _Authenticated(account, step, new_hash, method)


async def _claim_otp(
    conn: Connection, env: AuthEnv, auth: _Authenticated, action: str
) -> InvalidCredentials | None:
    """Consume the code's time step; a concurrent use of the same code loses here (and is
    counted as a failure, in the same transaction, which the caller commits)."""
    if auth.otp_step is None:
        return None
    if await repository.claim_totp_step(conn, auth.account.member_id, auth.otp_step):
        return None
    await _record_failure(conn, env, action, reason="replayed_otp", account=auth.account)
    return InvalidCredentials()


async def _locked_meanwhile(
    conn: Connection, env: AuthEnv, member_id: UUID, action: str
) -> AccountLocked:
    """A parallel burst of wrong guesses locked the account while this attempt was checked."""
    await audit.record(
        conn,
        action,
        outcome="locked",
        actor_id=member_id,
        source=env.source,
        details={"reason": "account_locked"},
    )
    current = await repository.get_account(conn, member_id)
    seconds = env.settings.account_lock_seconds
    if current is not None and current.locked_until is not None:
        seconds = _seconds_until(current.locked_until, current.now)
    return AccountLocked(seconds)


def _amr(subject: Subject) -> tuple[str, ...]:
    return ("pwd", "otp") if subject.totp_enabled else ("pwd",)


async def _issue(
    conn: Connection,
    env: AuthEnv,
    subject: Subject,
    grants: EffectiveGrants,
    family_id: UUID,
) -> TokenPair:
    access = await issue_access_token(
        conn, env.cipher, env.settings, subject, grants.grants, amr=_amr(subject)
    )
    refresh, digest = new_refresh_token()
    await repository.insert_refresh_token(
        conn,
        token_id=uuid.uuid4(),
        family_id=family_id,
        member_id=subject.member_id,
        digest=digest,
        ttl_seconds=env.settings.refresh_token_ttl_seconds,
    )
    return TokenPair(
        access_token=access,
        expires_in=env.settings.access_token_ttl_seconds,
        refresh_token=refresh,
        enrolment_required=grants.enrolment_required,
    )


def _usable(subject: Subject | None) -> Subject:
    if subject is None or subject.disabled or subject.member_status not in ACTIVE_STATUSES:
        raise InvalidCredentials()
    return subject


# ── login, refresh, logout ──────────────────────────────────────────────────────────────
#
# Login, refresh and the password change manage their transactions themselves instead of
# using the request's: they hold at most one pooled connection at a time (a request holding
# one while waiting for a second could starve the pool under a burst of failed logins), hold
# none while argon2 runs, and commit their bookkeeping before answering with an error. The
# pattern inside a transaction: on a refusal, write the bookkeeping, leave the block (commit),
# then raise.


async def login(env: AuthEnv, username: str, password: str, otp: str | None) -> TokenPair:
    auth = await _authenticate(env, username, password, otp, action=LOGIN)
    account = auth.account
    if account.activation_pending or account.must_change_password:
        async with db.transaction(env.pool) as conn:
            await repository.reset_account_failures(conn, account.member_id)
            await audit.record(
                conn,
                LOGIN,
                outcome="password_change_required",
                actor_id=account.member_id,
                source=env.source,
                details={"method": auth.method},
            )
        raise PasswordChangeRequired()
    refused: Exception | None = None
    async with db.transaction(env.pool) as conn:
        refused = await _claim_otp(conn, env, auth, LOGIN)
        if refused is None and not await repository.complete_login(
            conn, account.member_id, auth.new_hash
        ):
            refused = await _locked_meanwhile(conn, env, account.member_id, LOGIN)
        if refused is None:
            subject = _usable(await repository.subject(conn, account.member_id))
            grants = effective_grants(subject)
            pair = await _issue(conn, env, subject, grants, family_id=uuid.uuid4())
            await audit.record(
                conn,
                LOGIN,
                outcome="success",
                actor_id=account.member_id,
                source=env.source,
                details={
                    "method": auth.method,
                    "second_factor": auth.otp_step is not None,
                    "enrolment_required": grants.enrolment_required,
                    "rehashed": auth.new_hash is not None,
                },
            )
    if refused is not None:
        raise refused
    return pair


async def refresh(env: AuthEnv, refresh_token: str) -> TokenPair:
    """Rotate: the presented token becomes used, a new one of the same family is issued.

    A token presented again after its rotation is a replay (the legitimate client or an
    attacker holds a copy): the whole family is revoked, committed before answering 401.
    Of two concurrent uses of one token, one wins and the other counts as the replay.
    """
    digest = refresh_digest(refresh_token)
    async with db.transaction(env.pool) as conn:
        claimed = await repository.claim_refresh_token(conn, digest)
        if claimed is None:
            row = await repository.find_refresh_token(conn, digest)
            if row is not None and row["used_at"] is not None and row["revoked_at"] is None:
                revoked = await repository.revoke_family(conn, row["family_id"])
                await audit.record(
                    conn,
                    "auth.refresh",
                    outcome="reuse_detected",
                    actor_id=row["member_id"],
                    source=env.source,
                    details={"family_id": str(row["family_id"]), "revoked": revoked},
                )
                log.warning("refresh token reuse: family revoked")
        else:
            subject = _usable(await repository.subject(conn, claimed["member_id"]))
            if subject.must_change_password:
                raise PasswordChangeRequired()
            pair = await _issue(conn, env, subject, effective_grants(subject), claimed["family_id"])
    if claimed is None:
        raise InvalidRefreshToken()
    return pair


async def logout(
    conn: Connection, env: AuthEnv, refresh_token: str, *, all_devices: bool = False
) -> None:
    """Revoke the token's family — or, with ``all_devices`` and a live token, every family of
    its member (the token shows who asks). Unknown tokens are ignored (nothing to tell)."""
    row = await repository.find_refresh_token(conn, refresh_digest(refresh_token))
    if row is None:
        return
    live = row["used_at"] is None and row["revoked_at"] is None and not row["expired"]
    if all_devices and live:  # a stale copy of a token must not sign the member out everywhere
        revoked = await repository.revoke_member_tokens(conn, row["member_id"])
        details: dict[str, Any] = {"all_devices": True, "revoked": revoked}
    else:
        revoked = await repository.revoke_family(conn, row["family_id"])
        details = {"family_id": str(row["family_id"]), "revoked": revoked}
    await audit.record(
        conn, "auth.logout", actor_id=row["member_id"], source=env.source, details=details
    )


# ── password change ─────────────────────────────────────────────────────────────────────


async def change_password(
    env: AuthEnv,
    *,
    principal: Principal | None,
    username: str | None,
    current_password: str,
    new_password: str,
    otp: str | None,
) -> None:
    """With a token: the caller's password. Without: username + current password or
    activation code (+ otp when enabled) — the forced first-login change."""
    if principal is None:
        if not username:
            raise BadRequest("Cần tên đăng nhập (số thẻ đảng viên hoặc số điện thoại)")
        auth = await _authenticate(env, username, current_password, otp, action=PASSWORD_CHANGED)
        account = auth.account
    else:
        found = await _load(env, PASSWORD_CHANGED, member_id=principal.member_id)
        if found is None:
            raise InvalidCredentials()
        account = found
        await _verify_secret(env, account, current_password, PASSWORD_CHANGED)
        auth = _Authenticated(account, None, None, "card")
    new = passwords.check_policy(
        new_password,
        current=current_password,
        card_number=account.card_number,
        phone=account.phone,
    )
    new_hash = await passwords.hash_password(env.settings, new)
    refused: Exception | None = None
    async with db.transaction(env.pool) as conn:
        refused = await _claim_otp(conn, env, auth, PASSWORD_CHANGED)
        first_activation = None
        if refused is None:
            first_activation = await repository.set_password(conn, account.member_id, new_hash)
            if first_activation is None:
                refused = await _locked_meanwhile(conn, env, account.member_id, PASSWORD_CHANGED)
        if first_activation:
            cell_id, org_path = await repository.member_cell(conn, account.member_id)
            await outbox.enqueue(
                conn,
                AccountActivated(
                    member_id=account.member_id,
                    cell_id=cell_id,
                    org_path=org_path,
                    occurred_at=env.now,
                ),
            )
        if refused is None:
            revoked = await repository.revoke_member_tokens(conn, account.member_id)
            await audit.record(
                conn,
                PASSWORD_CHANGED,
                actor_id=account.member_id,
                source=env.source,
                details={
                    "first_password": account.activation_pending,
                    "authenticated": principal is not None,
                    "revoked_refresh_tokens": revoked,
                },
            )
    if refused is not None:
        raise refused


# ── second factor ───────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


async def _own_account(conn: Connection, principal: Principal) -> Account:
    account = await repository.get_account(conn, principal.member_id)
    if account is None:
        raise NotFound("Không tìm thấy tài khoản")
    return account


async def start_totp(conn: Connection, env: AuthEnv, principal: Principal) -> Enrolment:
    account = await _own_account(conn, principal)
    if account.totp_enabled:
        raise SecondFactorAlreadyEnabled("Xác thực hai lớp đã bật; tắt trước khi đăng ký lại")
    secret = totp.new_secret()
    encrypted = env.cipher.encrypt(secret, totp.secret_aad(account.member_id))
    if not await repository.store_totp_secret(conn, account.member_id, encrypted):
        raise SecondFactorAlreadyEnabled("Xác thực hai lớp đã bật; tắt trước khi đăng ký lại")
    await audit.record(
        conn, "auth.totp_enrolment_started", actor_id=account.member_id, source=env.source
    )
    uri = totp.provisioning_uri(secret, account.card_number)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri))


async def confirm_totp(conn: Connection, env: AuthEnv, principal: Principal, otp: str) -> None:
    account = await _own_account(conn, principal)
    if account.totp_enabled:
        raise SecondFactorAlreadyEnabled("Xác thực hai lớp đã được bật")
    if account.totp_secret_enc is None:
        raise SecondFactorNotPending("Hãy gọi POST /api/v1/auth/totp để bắt đầu đăng ký")
    secret = env.cipher.decrypt(account.totp_secret_enc, totp.secret_aad(account.member_id))
    step = totp.matching_step(secret, otp)
    if step is None:
        raise InvalidOtp("Mã xác thực không đúng hoặc đã hết hạn; thử mã mới từ ứng dụng")
    if not await repository.enable_totp(conn, account.member_id, step):
        raise SecondFactorNotPending("Không có đăng ký xác thực hai lớp đang chờ xác nhận")
    revoked = await repository.revoke_member_tokens(conn, account.member_id)
    await audit.record(
        conn,
        "auth.totp_enabled",
        actor_id=account.member_id,
        source=env.source,
        details={"revoked_refresh_tokens": revoked},
    )


async def disable_totp(conn: Connection, env: AuthEnv, principal: Principal) -> None:
    if await repository.has_role(conn, principal.member_id, sorted(PRIVILEGED_ROLES)):
        raise SecondFactorMandatory(
            "Quản trị viên tổ chức và cán bộ vận hành bắt buộc dùng xác thực hai lớp"
        )
    if not await repository.disable_totp(conn, principal.member_id):
        raise SecondFactorNotPending("Tài khoản chưa đăng ký xác thực hai lớp")
    await audit.record(conn, "auth.totp_disabled", actor_id=principal.member_id, source=env.source)


# ── /me ─────────────────────────────────────────────────────────────────────────────────


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


async def me(conn: Connection, principal: Principal) -> dict[str, Any]:
    row = await repository.profile(conn, principal.member_id)
    if row is None:
        raise NotFound("Không tìm thấy đảng viên")
    prefixes = _prefixes(row["cell_path"])
    orgs = {r["path"]: r for r in await repository.orgs_by_path(conn, prefixes)}
    chain = [
        {"id": orgs[p]["id"], "title": orgs[p]["title"], "kind": orgs[p]["kind"], "path": p}
        for p in prefixes
        if p in orgs
    ]
    cell = {
        "id": row["cell_id"],
        "title": row["cell_title"],
        "kind": row["cell_kind"],
        "path": row["cell_path"],
    }
    roles: list[dict[str, Any]] = [{"role": "member", "org": cell}]
    privileged = False
    for g in await repository.grants_with_orgs(conn, principal.member_id):
        privileged = privileged or g["role"] in PRIVILEGED_ROLES
        org = {"id": g["org_id"], "title": g["title"], "kind": g["kind"], "path": g["path"]}
        if g["role"] == "member" and g["org_id"] == row["cell_id"]:
            continue
        roles.append({"role": g["role"], "org": org})
    return {
        "id": row["id"],
        "card_number": row["card_number"],
        "full_name": row["full_name"],
        "status": row["status"],
        "cell": cell,
        "org_path": chain,
        "roles": roles,
        "second_factor": {
            "enabled": row["totp_enabled"],
            "pending_confirmation": row["totp_pending"],
            "required": privileged,
        },
    }


# ── signing keys (operators) ────────────────────────────────────────────────────────────


def require_root_operator(principal: Principal) -> None:
    if not any(g.role == "operator" and "." not in g.org_path for g in principal.grants):
        raise Forbidden("Chỉ cán bộ vận hành cấp tỉnh được thay khóa ký")


async def rotate_signing_key(env: AuthEnv, principal: Principal) -> str:
    """Committed before returning, so the new key is published when the caller hears of it."""
    require_root_operator(principal)
    async with db.transaction(env.pool) as conn:
        previous = await repository.current_signing_kid(conn)
        kid = await keys.rotate_signing_key(conn, env.cipher)
        await audit.record(
            conn,
            "auth.signing_key_rotated",
            actor_id=principal.member_id,
            target=kid,
            source=env.source,
            details={"kid": kid, "previous_kid": previous},
        )
    return kid


async def retire_signing_key(env: AuthEnv, principal: Principal, kid: str) -> None:
    require_root_operator(principal)
    async with db.transaction(env.pool) as conn:
        await keys.retire_signing_key(conn, kid)
        await audit.record(
            conn,
            "auth.signing_key_retired",
            actor_id=principal.member_id,
            target=kid,
            source=env.source,
            details={"kid": kid},
        )
