"""The documents bucket: content-addressed objects (key = SHA-256 of the content) and short-lived
presigned download URLs. The minio SDK blocks, so every call runs in a worker thread."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import IO, BinaryIO, cast
from urllib.parse import quote

from minio import Minio
from minio.error import S3Error

from .settings import DocumentsSettings


class Storage:
    def __init__(self, client: Minio, signer: Minio, bucket: str) -> None:
        self.client = client
        self.signer = signer
        self.bucket = bucket

    @classmethod
    def from_settings(cls, client: Minio, settings: DocumentsSettings) -> Storage:
        # Downloads are signed for the endpoint clients reach. Signing is local (the region is
        # fixed), so this client never talks to that endpoint itself.
        public = settings.s3_public_endpoint or settings.s3_endpoint
        secure = (
            settings.s3_secure if settings.s3_public_secure is None else settings.s3_public_secure
        )
        signer = Minio(
            public,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=secure,
            region=settings.s3_region,
        )
        return cls(client, signer, settings.bucket)

    async def ensure_bucket(self) -> None:
        def ensure() -> None:
            if not self.client.bucket_exists(self.bucket):
                with contextlib.suppress(S3Error):  # created meanwhile by another replica
                    self.client.make_bucket(self.bucket)

        await asyncio.to_thread(ensure)

    async def exists(self, key: str) -> bool:
        def stat() -> bool:
            try:
                self.client.stat_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in {"NoSuchKey", "NoSuchObject", "NotFound"}:
                    return False
                raise
            return True

        return await asyncio.to_thread(stat)

    async def put(self, key: str, data: IO[bytes], size: int, content_type: str) -> None:
        """Stream ``size`` bytes from ``data`` into the bucket (multipart above 16 MiB)."""
        data.seek(0)
        await asyncio.to_thread(
            self.client.put_object,
            self.bucket,
            key,
            cast(BinaryIO, data),
            size,
            content_type=content_type,
            part_size=16 * 1024 * 1024,
        )

    async def read(self, key: str) -> bytes:
        """The whole object (a stored document file, at most the upload cap)."""

        def get() -> bytes:
            response = self.client.get_object(self.bucket, key)
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

        return await asyncio.to_thread(get)

    def presign(self, key: str, *, ttl: int, filename: str, content_type: str) -> str:
        """A GET URL valid ``ttl`` seconds that downloads the object under ``filename``."""
        ascii_name = (
            filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
        )
        disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
        return self.signer.presigned_get_object(
            self.bucket,
            key,
            expires=timedelta(seconds=ttl),
            response_headers={
                "response-content-disposition": disposition,
                "response-content-type": content_type,
            },
        )
