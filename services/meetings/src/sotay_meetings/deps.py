"""Dependencies meetings' routes share, written once as ``Annotated`` aliases.

``Now`` is kit's clock: every rule that depends on the time (replies until the start, the
check-in window and code, lateness) reads it from there, so tests drive the clock by overriding
``sotay_kit.clock.current_time`` instead of sleeping.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sotay_kit.app import get_settings
from sotay_kit.clock import Now as Now  # re-exported for the routes

from .settings import MeetingsSettings

Settings = Annotated[MeetingsSettings, Depends(get_settings)]
