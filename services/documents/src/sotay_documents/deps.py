"""Dependencies the documents routes share, written once as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sotay_kit.app import Resources
from sotay_kit.errors import Problem

from .settings import DocumentsSettings
from .storage import Storage


class StorageUnavailable(Problem):
    status, slug, title = 503, "storage-unavailable", "Kho lưu trữ tệp chưa sẵn sàng"


def _resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


def get_settings(request: Request) -> DocumentsSettings:
    settings = _resources(request).settings
    assert isinstance(settings, DocumentsSettings)
    return settings


def get_storage(request: Request) -> Storage:
    storage: Storage | None = _resources(request).extra.get("storage")
    if storage is None:
        raise StorageUnavailable("Dịch vụ chưa được cấu hình kho lưu trữ tệp")
    return storage


def source_address(request: Request) -> str:
    """The caller's address: the gateway's X-Forwarded-For when the request came through a
    trusted proxy, the socket's peer otherwise."""
    peer = request.client.host if request.client else "0.0.0.0"
    if peer in get_settings(request).trusted_proxies:
        first = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        if first:
            return first[:100]
    return peer


Settings = Annotated[DocumentsSettings, Depends(get_settings)]
ObjectStorage = Annotated[Storage, Depends(get_storage)]
SourceAddress = Annotated[str, Depends(source_address)]
