"""The documents service.

Thư viện văn bản, phát hành xuống tổ chức, theo dõi học tập, sổ tay nghiệp vụ và tin tức."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from sotay_kit import audit
from sotay_kit.app import Resources, ServiceSpec, create_service_app

from . import partitioned
from .consultations.routes import router as consultations_router
from .consumers import identity_binding
from .deps import DocumentsState
from .handbook import loader as handbook_loader
from .handbook.routes import router as handbook_router
from .library.routes import router as library_router
from .news.routes import router as news_router
from .quizzes.routes import router as quizzes_router
from .reminders.routes import router as reminders_router
from .settings import DocumentsSettings
from .storage import Storage
from .study.routes import router as study_router

log = logging.getLogger("sotay.documents")

SPEC = ServiceSpec(
    name="documents",
    version="0.1.0",
    description=(
        "Thư viện văn bản, phát hành xuống tổ chức, theo dõi học tập, sổ tay nghiệp vụ và tin tức."
    ),
    versions_dir=Path(__file__).parent / "migrations" / "versions",
    # Static paths before /documents/{id}, which would take them: the audit log
    # (/documents/audit), study (/documents/to-study) and consultations first.
    routers=[
        audit.router("documents"),
        study_router,
        reminders_router,
        consultations_router,
        quizzes_router,
        library_router,
        handbook_router,
        news_router,
    ],
    consumers=[identity_binding()],
    partitioned=[partitioned.READS],
)


@asynccontextmanager
async def lifespan(app: FastAPI, core: Resources) -> AsyncIterator[DocumentsState]:
    settings = core.settings
    assert isinstance(settings, DocumentsSettings)
    storage = None
    if core.s3 is not None:
        storage = Storage.from_settings(core.s3, settings)
        await storage.ensure_bucket()
    else:
        log.warning("no S3 credentials: uploads and downloads are unavailable")
    if settings.load_handbook:
        changed = await handbook_loader.load(core.pool)
        log.info("handbook loaded", extra={"changed": changed})
    yield DocumentsState.extend(core, settings=settings, storage=storage)


def create_app(settings: DocumentsSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or DocumentsSettings(), lifespan=lifespan)
