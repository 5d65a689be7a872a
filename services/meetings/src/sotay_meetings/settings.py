"""Meetings' settings (env prefix ``MEETINGS_``)."""

from __future__ import annotations

from pydantic import Field
from sotay_kit.settings import ServiceSettings, settings_config


class MeetingsSettings(ServiceSettings):
    model_config = settings_config("meetings")

    # Check-in (điểm danh): the rotating code changes every ``checkin_step_seconds``; the current
    # and the previous step are accepted. The window opens ``checkin_opens_minutes`` before the
    # start and closes ``checkin_grace_minutes`` after the end; arriving later than
    # ``late_after_minutes`` after the start counts as late.
    checkin_step_seconds: int = Field(default=30, ge=10, le=300)
    checkin_opens_minutes: int = Field(default=30, ge=0, le=240)
    checkin_grace_minutes: int = Field(default=15, ge=0, le=240)
    late_after_minutes: int = Field(default=15, ge=0, le=240)

    # Quorum: share of the non-exempt members of the roster who must attend (present or late).
    quorum_ratio: float = Field(default=2 / 3, gt=0, le=1)

    # Monthly series: how many occurrences are generated at most (and by default).
    series_max_occurrences: int = Field(default=24, ge=1, le=60)
    series_default_occurrences: int = Field(default=12, ge=1, le=60)
