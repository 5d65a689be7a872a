"""The notify service: Thông báo: hộp thư trong ứng dụng, Web Push, email, SMS và nhắc việc."""

from pathlib import Path

from fastapi import FastAPI
from sotay_kit.app import ServiceSpec, create_service_app

from .settings import NotifySettings

SPEC = ServiceSpec(
    name="notify",
    version="0.1.0",
    description="Thông báo: hộp thư trong ứng dụng, Web Push, email, SMS và nhắc việc.",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
)


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or NotifySettings())
