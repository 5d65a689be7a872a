"""The identity service: org tree, members, roles, login and access tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from sotay_kit.app import Resources, ServiceSpec, create_service_app
from sotay_kit.auth import TokenVerifier

from .audit.routes import router as audit_router
from .auth import keys
from .auth.routes import router as auth_router
from .crypto import DataCipher
from .deps import IdentityState
from .grants.routes import router as grants_router
from .members.routes import router as members_router
from .orgs.routes import me_router as my_cell_router
from .orgs.routes import router as orgs_router
from .records.routes import router as records_router
from .settings import IdentitySettings

SPEC = ServiceSpec(
    name="identity",
    version="0.1.0",
    description="Cây tổ chức, đảng viên, vai trò, đăng nhập và mã truy cập.",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
    routers=[
        auth_router,
        my_cell_router,
        orgs_router,
        records_router,
        members_router,
        grants_router,
        audit_router,
    ],
)


@asynccontextmanager
async def lifespan(app: FastAPI, core: Resources) -> AsyncIterator[IdentityState]:
    settings = core.settings
    assert isinstance(settings, IdentitySettings)
    cipher = DataCipher(settings.data_key_bytes())
    await keys.ensure_signing_key(core.pool, cipher)
    # Identity verifies its own tokens exactly as every other service does (JWKS by kid),
    # reading its JWKS in-process instead of over the network.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://identity.internal"
    ) as client:
        verifier = TokenVerifier(
            "http://identity.internal/api/v1/auth/jwks",
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            client=client,
        )
        yield IdentityState.extend(core, settings=settings, cipher=cipher, verifier=verifier)


def create_app(settings: IdentitySettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or IdentitySettings(), lifespan=lifespan)
