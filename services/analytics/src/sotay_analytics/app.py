"""The analytics service: Báo cáo: mức độ tiếp cận văn bản, tham dự sinh hoạt, mức độ sử dụng."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from sotay_kit import audit
from sotay_kit.app import Resources, ServiceSpec, create_service_app

from . import metrics
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
)


def _start_gauges(settings: AnalyticsSettings) -> Callable[[FastAPI, Resources], None]:
    def on_startup(app: FastAPI, resources: Resources) -> None:
        if not settings.gauge_refresh_seconds:
            return
        stop = asyncio.Event()
        task = asyncio.create_task(
            metrics.refresh_loop(resources.pool, settings.gauge_refresh_seconds, stop),
            name="business-gauges",
        )

        async def close() -> None:
            stop.set()
            await asyncio.wait([task], timeout=5)
            task.cancel()

        resources.closers.append(close)

    return on_startup


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    settings = settings or AnalyticsSettings()
    return create_service_app(SPEC, settings, on_startup=_start_gauges(settings))
