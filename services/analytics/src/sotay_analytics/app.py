"""The analytics service: Báo cáo: mức độ tiếp cận văn bản, tham dự sinh hoạt, mức độ sử dụng."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from sotay_kit import audit
from sotay_kit.app import BackgroundJob, Resources, ServiceSpec, background, create_service_app

from . import metrics, partitioned
from .projection import audiences
from .projection.consumers import BINDINGS
from .reports.routes import router as reports_router
from .settings import AnalyticsSettings

SPEC = ServiceSpec(
    name="analytics",
    version="0.1.0",
    description="Báo cáo: mức độ tiếp cận văn bản, tham dự sinh hoạt, mức độ sử dụng.",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
    routers=(audit.router("analytics"), reports_router),
    consumers=BINDINGS,
    partitioned=partitioned.TABLES,
)


@asynccontextmanager
async def lifespan(app: FastAPI, core: Resources) -> AsyncIterator[Resources]:
    """Refresh the business gauges in the background (when configured); project large
    publications' audiences in chunks (where the consumers run)."""
    settings = core.settings
    assert isinstance(settings, AnalyticsSettings)
    jobs: dict[str, BackgroundJob] = {}
    if settings.gauge_refresh_seconds:
        jobs["business-gauges"] = functools.partial(
            metrics.refresh_loop, core.pool, settings.gauge_refresh_seconds
        )
    if settings.run_consumers:
        jobs["audience-projection"] = functools.partial(audiences.run, core.pool)
    async with background(jobs, grace=5):
        yield core


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or AnalyticsSettings(), lifespan=lifespan)
