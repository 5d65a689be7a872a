"""The meetings service.

Sinh hoạt chi bộ: lịch họp, trả lời tham dự, điểm danh, kết thúc họp và biên bản."""

from pathlib import Path

from fastapi import FastAPI
from sotay_kit.app import ServiceSpec, create_service_app

from .settings import MeetingsSettings

SPEC = ServiceSpec(
    name="meetings",
    version="0.1.0",
    description=(
        "Sinh hoạt chi bộ: lịch họp, trả lời tham dự, điểm danh,"
        " kết thúc họp và biên bản."
    ),
    versions_dir=Path(__file__).parent / "migrations" / "versions",
)


def create_app(settings: MeetingsSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or MeetingsSettings())
