"""Event factories for tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sotay_contracts.events.documents import DocumentRead, ReadState


def read_event(member: uuid.UUID | None = None, progress: int = 50) -> DocumentRead:
    return DocumentRead(
        document_id=uuid.uuid4(),
        version=1,
        member_id=member or uuid.uuid4(),
        cell_id=uuid.uuid4(),
        org_path="1.2.3",
        state=ReadState.OPENED if progress < 100 else ReadState.STUDIED,
        progress_percent=progress,
        occurred_at=datetime.now(UTC),
    )
