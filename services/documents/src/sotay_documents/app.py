"""The documents service.

Thư viện văn bản, phát hành xuống tổ chức, theo dõi học tập, sổ tay nghiệp vụ và tin tức."""

from pathlib import Path

from fastapi import FastAPI
from sotay_kit.app import ServiceSpec, create_service_app

from .settings import DocumentsSettings

SPEC = ServiceSpec(
    name="documents",
    version="0.1.0",
    description=(
        "Thư viện văn bản, phát hành xuống tổ chức, theo dõi học tập,"
        " sổ tay nghiệp vụ và tin tức."
    ),
    versions_dir=Path(__file__).parent / "migrations" / "versions",
)


def create_app(settings: DocumentsSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or DocumentsSettings())
