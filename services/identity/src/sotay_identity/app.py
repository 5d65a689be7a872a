"""The identity service: org tree, members, roles, login and access tokens."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI
from sotay_kit.app import Resources, ServiceSpec, create_service_app
from sotay_kit.auth import TokenVerifier

from .audit.routes import router as audit_router
from .auth import keys
from .auth.routes import router as auth_router
from .crypto import DataCipher
from .grants.routes import router as grants_router
from .members.routes import router as members_router
from .orgs.routes import me_router as my_cell_router
from .orgs.routes import router as orgs_router
from .settings import IdentitySettings

SPEC = ServiceSpec(
    name="identity",
    version="0.1.0",
    description="Cây tổ chức, đảng viên, vai trò, đăng nhập và mã truy cập.",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
    routers=[auth_router, my_cell_router, orgs_router, members_router, grants_router, audit_router],
)


async def _on_startup(app: FastAPI, resources: Resources) -> None:
    settings = resources.settings
    assert isinstance(settings, IdentitySettings)
    cipher = DataCipher(settings.data_key_bytes())
    resources.extra["cipher"] = cipher
    await keys.ensure_signing_key(resources.pool, cipher)
    # Identity verifies its own tokens exactly as every other service does (JWKS by kid),
    # reading its JWKS in-process instead of over the network.
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://identity.internal"
    )
    resources.verifier = TokenVerifier(
        "http://identity.internal/api/v1/auth/jwks",
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        client=client,
    )
    resources.closers.append(client.aclose)


def create_app(settings: IdentitySettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or IdentitySettings(), on_startup=_on_startup)
