"""The documents service's typed state and the dependencies its routes share, written once as
``Annotated`` aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sotay_kit.app import Resources, get_resources, get_settings
from sotay_kit.app import SourceAddress as SourceAddress  # re-exported for the routes
from sotay_kit.clock import Now as Now  # re-exported for the routes

from .problems import StorageUnavailable
from .settings import DocumentsSettings
from .storage import Storage


@dataclass(kw_only=True)
class DocumentsState(Resources):
    settings: DocumentsSettings
    # None when the service has no S3 credentials: uploads and downloads answer 503.
    storage: Storage | None


State = Annotated[DocumentsState, Depends(get_resources)]
Settings = Annotated[DocumentsSettings, Depends(get_settings)]


async def get_storage(state: State) -> Storage:
    if state.storage is None:
        raise StorageUnavailable("Dịch vụ chưa được cấu hình kho lưu trữ tệp")
    return state.storage


ObjectStorage = Annotated[Storage, Depends(get_storage)]
