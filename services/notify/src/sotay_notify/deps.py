"""Notify's typed state and the dependencies its routes share, written once as ``Annotated``
aliases. ``Now`` is kit's clock (tests override ``sotay_kit.clock.current_time``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends
from py_vapid import Vapid  # type: ignore[import-untyped]
from sotay_kit.app import Resources, get_resources, get_settings
from sotay_kit.clock import Now as Now  # re-exported for the routes

from .delivery.service import Channels
from .hub import Hub
from .settings import NotifySettings
from .worker import Worker


@dataclass(kw_only=True)
class NotifyState(Resources):
    settings: NotifySettings
    hub: Hub  # LISTEN/NOTIFY fan-out to the SSE streams and the worker
    channels: Channels
    worker: Worker
    # One client for every push service and the SMS provider.
    http: httpx.AsyncClient
    # None: Web Push is off (production without a configured key).
    vapid: Vapid | None


State = Annotated[NotifyState, Depends(get_resources)]
Settings = Annotated[NotifySettings, Depends(get_settings)]
