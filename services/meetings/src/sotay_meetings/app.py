"""The meetings service.

Sinh hoạt chi bộ: lịch họp, trả lời tham dự, điểm danh, kết thúc họp và biên bản."""

from pathlib import Path

from fastapi import FastAPI
from sotay_kit import audit
from sotay_kit.app import ServiceSpec, create_service_app

from . import partitioned
from .history.routes import router as history_router
from .meetings.consumers import BINDINGS
from .meetings.routes import router as meetings_router
from .minutes.routes import router as minutes_router
from .motions.routes import router as motions_router
from .reviews.routes import router as reviews_router
from .settings import MeetingsSettings

SPEC = ServiceSpec(
    name="meetings",
    version="0.1.0",
    description=(
        "Sinh hoạt chi bộ: lịch họp, trả lời tham dự, điểm danh, kết thúc họp và biên bản."
    ),
    versions_dir=Path(__file__).parent / "migrations" / "versions",
    # Static and more specific paths before /meetings/{meeting_id}, which would take them: the
    # audit log (/meetings/audit), the attendance history and the minutes first.
    routers=[
        audit.router("meetings"),
        history_router,
        minutes_router,
        motions_router,
        reviews_router,
        meetings_router,
    ],
    consumers=BINDINGS,
    partitioned=[partitioned.INVITEES],
)


def create_app(settings: MeetingsSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or MeetingsSettings())
