"""HTTP of authentication: ``/api/v1/auth/*``, ``/api/v1/me`` and signing-key rotation.

Problem types (``https://sotay.vn/problems/<slug>``):

- ``invalid-credentials`` (401): unknown user, wrong password/activation code/otp, disabled;
- ``second-factor-required`` (401): the account has TOTP and ``otp`` was not sent;
- ``password-change-required`` (403): activation code or forced change — call ``POST password``;
- ``account-locked`` / ``too-many-login-attempts`` (429 + ``Retry-After``): per account / source;
- ``invalid-refresh-token`` (401): unknown, used (→ family revoked), revoked, expired or absent;
- ``browser-header-required`` (403): the refresh-token cookie came without ``X-Sotay-Client``;
- ``weak-password`` (422); ``invalid-otp`` (400); ``second-factor-already-enabled`` /
  ``second-factor-not-pending`` (409); ``second-factor-mandatory`` (403);
  ``signing-key-conflict`` (409).

Browser mode (DESIGN.md §12): a request carrying ``X-Sotay-Client: web`` gets its refresh token
only in an ``HttpOnly; SameSite=Strict`` cookie scoped to ``/api/v1/auth`` (``Secure`` outside
localhost), never in the JSON body; refresh and logout take the token from that cookie only
together with the header. A cross-site form cannot set a custom header, and a cross-site script
cannot either without a CORS preflight, which this API never grants.
"""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request, Response, status
from fastapi.responses import JSONResponse
from sotay_kit.app import DbConnection, ReadConnection
from sotay_kit.auth import CurrentPrincipal, Principal, TokenVerifier, require_principal
from sotay_kit.errors import BadRequest, Forbidden, NotFound, Unauthorized, problem_responses

from ..deps import IdentityState, Now, Settings, SourceAddress, State
from ..problems import (
    PASSWORD_CHECK,
    BrowserHeaderRequired,
    InvalidOtp,
    InvalidRefreshToken,
    PasswordChangeRequired,
    RefreshTokenMissing,
    SecondFactorAlreadyEnabled,
    SecondFactorMandatory,
    SecondFactorNotPending,
    SigningKeyConflict,
    WeakPassword,
)
from . import keys, service
from .schemas import (
    Jwks,
    LoginRequest,
    LogoutRequest,
    Me,
    PasswordChangeRequest,
    RefreshRequest,
    SigningKeyRotated,
    TokenResponse,
    TotpConfirmRequest,
    TotpEnrolment,
)

router = APIRouter(tags=["auth"])

# Login, refresh and the password change run their own short transactions (see service.py:
# bookkeeping committed before an error answer, one pooled connection at a time, none held
# while argon2 runs); the other endpoints use the request's transaction (DbConnection).

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1


async def _env(state: State, source: SourceAddress, now: Now) -> service.AuthEnv:
    return service.AuthEnv(state.pool, state.settings, state.cipher, source, now)


Env = Annotated[service.AuthEnv, Depends(_env)]


BROWSER_HEADER = "X-Sotay-Client"
BROWSER_CLIENT = "web"
REFRESH_COOKIE = "sotay_refresh"
COOKIE_PATH = "/api/v1/auth"


def _browser_mode(request: Request) -> bool:
    return request.headers.get(BROWSER_HEADER) == BROWSER_CLIENT


def _set_refresh_cookie(
    response: Response, request: Request, settings: Settings, token: str | None
) -> None:
    """Set (``token``) or clear (None) the refresh-token cookie, with the same attributes."""
    secure = settings.refresh_cookie_secure(request.url.hostname)
    if token is None:
        response.delete_cookie(
            REFRESH_COOKIE, path=COOKIE_PATH, secure=secure, httponly=True, samesite="strict"
        )
    else:
        response.set_cookie(
            REFRESH_COOKIE,
            token,
            max_age=settings.refresh_token_ttl_seconds,
            path=COOKIE_PATH,
            secure=secure,
            httponly=True,
            samesite="strict",
        )


def _cleared_cookie(request: Request, settings: Settings) -> dict[str, str]:
    scratch = Response()
    _set_refresh_cookie(scratch, request, settings, None)
    return {"set-cookie": scratch.headers["set-cookie"]}


def _presented_token(request: Request, body: RefreshRequest | None) -> str | None:
    """The refresh token of this request: the cookie in browser mode, else the JSON body.
    A cookie without the browser header is refused rather than ignored, so a client missing
    the header learns why instead of seeing its session end."""
    if _browser_mode(request):
        return request.cookies.get(REFRESH_COOKIE) or None
    if body is not None and body.refresh_token:
        return body.refresh_token
    if REFRESH_COOKIE in request.cookies:
        raise BrowserHeaderRequired()
    return None


def _tokens(
    pair: service.TokenPair, request: Request, settings: Settings, response: Response
) -> TokenResponse:
    response.headers.update(_NO_STORE)
    browser = _browser_mode(request)
    if browser:
        _set_refresh_cookie(response, request, settings, pair.refresh_token)
    return TokenResponse(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=None if browser else pair.refresh_token,
        second_factor_enrolment_required=pair.enrolment_required,
    )


@router.post(
    "/api/v1/auth/login",
    responses=problem_responses(*PASSWORD_CHECK, PasswordChangeRequired),
    response_model=TokenResponse,
    response_model_exclude_none=True,
    summary="Đăng nhập bằng số thẻ đảng viên hoặc số điện thoại",
)
async def login(
    body: LoginRequest, env: Env, request: Request, settings: Settings, response: Response
) -> TokenResponse:
    pair = await service.login(env, body.username, body.password, body.otp)
    return _tokens(pair, request, settings, response)


@router.post(
    "/api/v1/auth/refresh",
    responses=problem_responses(
        BrowserHeaderRequired, RefreshTokenMissing, InvalidRefreshToken, PasswordChangeRequired
    ),
    response_model=TokenResponse,
    response_model_exclude_none=True,
    summary="Làm mới mã truy cập",
)
async def refresh(
    env: Env,
    request: Request,
    settings: Settings,
    response: Response,
    body: RefreshRequest | None = None,
) -> TokenResponse:
    token = _presented_token(request, body)
    if token is None:
        raise RefreshTokenMissing()
    try:
        pair = await service.refresh(env, token)
    except InvalidRefreshToken as exc:
        if _browser_mode(request):  # the cookie is dead: drop it with the answer
            exc.headers.update(_cleared_cookie(request, settings))
        raise
    return _tokens(pair, request, settings, response)


@router.post(
    "/api/v1/auth/logout",
    responses=problem_responses(BrowserHeaderRequired, RefreshTokenMissing),
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Đăng xuất (thiết bị này hoặc mọi thiết bị)",
)
async def logout(
    env: Env,
    conn: DbConnection,
    request: Request,
    settings: Settings,
    body: LogoutRequest | None = None,
) -> Response:
    token = _presented_token(request, body)
    if token is None and not _browser_mode(request):
        raise RefreshTokenMissing()
    if token is not None:
        all_devices = body is not None and body.all_devices
        await service.logout(conn, env, token, all_devices=all_devices)
    answer = Response(status_code=status.HTTP_204_NO_CONTENT, headers=_NO_STORE)
    if _browser_mode(request):
        _set_refresh_cookie(answer, request, settings, None)
    return answer


async def _optional_principal(request: Request) -> Principal | None:
    if "authorization" not in request.headers:
        return None
    return await require_principal(request)


@router.post(
    "/api/v1/auth/password",
    responses=problem_responses(*PASSWORD_CHECK, Unauthorized, BadRequest, NotFound, WeakPassword),
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Đổi mật khẩu (cả lần đầu bằng mã kích hoạt)",
)
async def change_password(
    body: PasswordChangeRequest,
    principal: Annotated[Principal | None, Depends(_optional_principal)],
    env: Env,
) -> Response:
    await service.change_password(
        env,
        principal=principal,
        username=body.username,
        current_password=body.current_password,
        new_password=body.new_password,
        otp=body.otp,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/v1/auth/jwks", response_model=Jwks, summary="Khóa công khai (JWK Set)")
async def jwks(state: State) -> JSONResponse:
    async with state.pool.acquire() as conn:
        body = await keys.jwks(conn)
    return JSONResponse(
        body,
        media_type="application/jwk-set+json",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.post(
    "/api/v1/auth/totp",
    response_model=TotpEnrolment,
    summary="Bắt đầu đăng ký xác thực hai lớp",
    responses=problem_responses(SecondFactorAlreadyEnabled),
)
async def start_totp(
    principal: CurrentPrincipal, env: Env, conn: DbConnection, response: Response
) -> TotpEnrolment:
    enrolment = await service.start_totp(conn, env, principal)
    response.headers.update(_NO_STORE)
    return TotpEnrolment(
        secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri, qr_svg=enrolment.qr_svg
    )


@router.post(
    "/api/v1/auth/totp/confirm",
    responses=problem_responses(SecondFactorAlreadyEnabled, SecondFactorNotPending, InvalidOtp),
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Xác nhận và bật xác thực hai lớp",
)
async def confirm_totp(
    body: TotpConfirmRequest, principal: CurrentPrincipal, env: Env, conn: DbConnection
) -> Response:
    await service.confirm_totp(conn, env, principal, body.otp)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/api/v1/auth/totp",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(SecondFactorMandatory, SecondFactorNotPending),
    summary="Tắt xác thực hai lớp (chỉ đảng viên không giữ vai trò quản trị)",
)
async def disable_totp(principal: CurrentPrincipal, env: Env, conn: DbConnection) -> Response:
    await service.disable_totp(conn, env, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/api/v1/me",
    response_model=Me,
    tags=["me"],
    summary="Thông tin của tôi",
    responses=problem_responses(NotFound),
)
async def me(principal: CurrentPrincipal, conn: ReadConnection) -> Me:  # three reads
    return Me.model_validate(await service.me(conn, principal))


def _reload_own_verifier(app: FastAPI, state: IdentityState) -> None:
    """Identity verifies its own tokens through kit's TokenVerifier, which refetches the JWKS at
    most every 30 s and keeps a retired key cached: after a rotation or a retirement done by
    this process, start from a fresh verifier so the change applies here at once."""
    old = state.verifier
    if not old.jwks_url.startswith("http://identity.internal/"):
        return  # not the in-process verifier app.py installs (e.g. replaced by a test)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://identity.internal"
    )
    state.verifier = TokenVerifier(
        old.jwks_url, issuer=old.issuer, audience=old.audience, client=client
    )
    state.exit_stack.push_async_callback(client.aclose)


@router.post(
    "/api/v1/identity/signing-keys/rotate",
    responses=problem_responses(Forbidden),
    response_model=SigningKeyRotated,
    tags=["signing-keys"],
    summary="Xoay khóa ký mã truy cập (cán bộ vận hành cấp tỉnh)",
)
async def rotate_signing_key(
    request: Request, state: State, principal: CurrentPrincipal, env: Env
) -> SigningKeyRotated:
    kid = await service.rotate_signing_key(env, principal)
    _reload_own_verifier(request.app, state)
    return SigningKeyRotated(kid=kid)


@router.post(
    "/api/v1/identity/signing-keys/{kid}/retire",
    responses=problem_responses(Forbidden, SigningKeyConflict),
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["signing-keys"],
    summary="Ngừng công bố một khóa ký (mã ký bằng khóa đó hết hiệu lực)",
)
async def retire_signing_key(
    kid: str, request: Request, state: State, principal: CurrentPrincipal, env: Env
) -> Response:
    await service.retire_signing_key(env, principal, kid)
    _reload_own_verifier(request.app, state)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
