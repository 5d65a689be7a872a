"""Receiving a multipart upload with a size cap, without holding the file in memory.

Starlette's form parser spools a file part to a temporary file (1 MiB in memory, then disk).
The request body is counted as it arrives and the upload is refused with 413 as soon as it
passes the cap, before it is all read; the SHA-256 is computed from the spooled file in a worker
thread, and the same file object is then streamed to S3.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from sotay_kit.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from starlette.datastructures import UploadFile
from starlette.types import Message

from .problems import EmptyFile

M = TypeVar("M", bound=BaseModel)

FORM_OVERHEAD = 256 * 1024  # multipart boundaries and the metadata fields
MAX_FIELD_BYTES = 16 * 1024
MAX_FILENAME = 200


@dataclass
class ReceivedFile:
    file: IO[bytes]
    filename: str
    size: int
    sha256: str


def _too_large(max_bytes: int) -> PayloadTooLarge:
    size = f"{max_bytes / (1024 * 1024):g} MB" if max_bytes >= 1024 * 1024 else f"{max_bytes} byte"
    return PayloadTooLarge(
        f"Tệp vượt quá dung lượng cho phép ({size})",
        extensions={"max_bytes": max_bytes},
    )


def _digest(fh: IO[bytes]) -> tuple[str, int]:
    fh.seek(0)
    h = hashlib.sha256()
    size = 0
    while chunk := fh.read(1024 * 1024):
        h.update(chunk)
        size += len(chunk)
    fh.seek(0)
    return h.hexdigest(), size


def clean_filename(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable() and c not in '<>:"|?*').strip(" .")
    return base[-MAX_FILENAME:] or "tep"


@asynccontextmanager
async def receive_form(
    request: Request, max_bytes: int
) -> AsyncIterator[tuple[dict[str, Any], ReceivedFile]]:
    """Yield the text fields (a list for a repeated name) and the one file part ``file``."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaType("Cần gửi dạng multipart/form-data với trường tệp 'file'")
    limit = max_bytes + FORM_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(max_bytes)
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large(max_bytes)
        return message

    limited = Request(request.scope, counted)
    form = await limited.form(max_files=1, max_fields=40, max_part_size=MAX_FIELD_BYTES)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadRequest("Thiếu trường tệp 'file'")
        sha256, size = await asyncio.to_thread(_digest, upload.file)
        if size == 0:
            raise EmptyFile("Tệp tải lên không có nội dung")
        if size > max_bytes:
            raise _too_large(max_bytes)
        fields: dict[str, Any] = {}
        for key, value in form.multi_items():
            if key == "file" or not isinstance(value, str):
                continue
            if key in fields:
                existing = fields[key]
                fields[key] = (
                    [*existing, value] if isinstance(existing, list) else [existing, value]
                )
            else:
                fields[key] = value
        yield fields, ReceivedFile(upload.file, clean_filename(upload.filename or ""), size, sha256)
    finally:
        await form.close()


def parse_fields(model: type[M], fields: dict[str, Any]) -> M:
    """Validate the form's text fields like a JSON body (same 422 answer)."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        ) from exc
