"""Dependencies meetings' routes share, written once as ``Annotated`` aliases.

``Now`` is the service's clock: every rule that depends on the time (replies until the start,
the check-in window and code, lateness) reads it from here, so tests drive the clock by
overriding :func:`current_time` instead of sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sotay_kit.app import Resources

from .settings import MeetingsSettings


def get_settings(request: Request) -> MeetingsSettings:
    resources: Resources = request.app.state.resources
    settings = resources.settings
    assert isinstance(settings, MeetingsSettings)
    return settings


def current_time() -> datetime:
    return datetime.now(UTC)


Settings = Annotated[MeetingsSettings, Depends(get_settings)]
Now = Annotated[datetime, Depends(current_time)]
