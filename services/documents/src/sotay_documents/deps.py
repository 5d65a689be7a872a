"""Dependencies the documents routes share, written once as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sotay_kit.app import Resources
from sotay_kit.app import SourceAddress as SourceAddress  # re-exported for the routes
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


Settings = Annotated[DocumentsSettings, Depends(get_settings)]
ObjectStorage = Annotated[Storage, Depends(get_storage)]
