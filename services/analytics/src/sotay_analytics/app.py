"""The analytics service: Báo cáo: mức độ tiếp cận văn bản, tham dự sinh hoạt, mức độ sử dụng."""

from pathlib import Path

from fastapi import FastAPI
from sotay_kit.app import ServiceSpec, create_service_app

from .settings import AnalyticsSettings

SPEC = ServiceSpec(
    name="analytics",
    version="0.1.0",
    description="Báo cáo: mức độ tiếp cận văn bản, tham dự sinh hoạt, mức độ sử dụng.",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
)


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or AnalyticsSettings())
