"""Dependencies analytics' routes share, written once as ``Annotated`` aliases. ``Now`` is
kit's clock (tests override ``sotay_kit.clock.current_time``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sotay_kit.app import get_settings
from sotay_kit.clock import Now as Now  # re-exported for the routes

from .settings import AnalyticsSettings

Settings = Annotated[AnalyticsSettings, Depends(get_settings)]
