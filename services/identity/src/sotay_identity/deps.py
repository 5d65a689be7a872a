"""Dependencies identity's routes share, written once as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sotay_kit.app import Resources

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


def source_address(request: Request) -> str:
    """The caller's address: the gateway's X-Forwarded-For when the request came through a
    trusted proxy, the socket's peer otherwise."""
    peer = request.client.host if request.client else "0.0.0.0"
    if peer in get_settings(request).trusted_proxies:
        forwarded = request.headers.get("x-forwarded-for", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    return peer


Settings = Annotated[IdentitySettings, Depends(get_settings)]
Cipher = Annotated[DataCipher, Depends(get_cipher)]
SourceAddress = Annotated[str, Depends(source_address)]
