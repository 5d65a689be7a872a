from pydantic import Field
from sotay_kit.settings import ServiceSettings, settings_config


class DocumentsSettings(ServiceSettings):
    model_config = settings_config("documents")

    bucket: str = "sotay-documents"
    # Largest file accepted by an upload (bytes).
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    # Lifetime of a presigned download URL (seconds).
    download_url_ttl: int = Field(default=300, ge=1, le=3600)
    # The S3 endpoint that clients reach (host:port), used to sign download URLs. Locally it is
    # the S3 endpoint itself; in production the public S3 host behind TLS (see docs/documents.md).
    s3_public_endpoint: str = ""
    s3_public_secure: bool | None = None
    # Load the shipped handbook articles at start-up (upsert by slug).
    load_handbook: bool = True
