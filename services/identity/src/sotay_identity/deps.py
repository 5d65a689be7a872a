"""Dependencies identity's routes share, written once as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sotay_kit.app import Resources
from sotay_kit.app import SourceAddress as SourceAddress  # re-exported for the routes

from .crypto import DataCipher
from .settings import IdentitySettings


def _resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


def get_settings(request: Request) -> IdentitySettings:
    settings = _resources(request).settings
    assert isinstance(settings, IdentitySettings)
    return settings


def get_cipher(request: Request) -> DataCipher:
    cipher: DataCipher = _resources(request).extra["cipher"]
    return cipher


Settings = Annotated[IdentitySettings, Depends(get_settings)]
Cipher = Annotated[DataCipher, Depends(get_cipher)]
