"""Dependencies notify's routes share, written once as ``Annotated`` aliases.

``Now`` is the service's clock (tests override :func:`current_time`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sotay_kit.app import Resources

from .settings import NotifySettings


def get_settings(request: Request) -> NotifySettings:
    resources: Resources = request.app.state.resources
    settings = resources.settings
    assert isinstance(settings, NotifySettings)
    return settings


def current_time() -> datetime:
    return datetime.now(UTC)


Settings = Annotated[NotifySettings, Depends(get_settings)]
Now = Annotated[datetime, Depends(current_time)]
