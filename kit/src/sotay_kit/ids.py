"""Ids of new aggregates (documents, publications, meetings …): UUIDv7, whose first 48 bits are
the creation time in milliseconds. Tables keyed by such an id are partitioned by month of it
(sotay_kit.partitions) and its index grows at the right edge instead of at random pages."""

from __future__ import annotations

from uuid import UUID

from uuid_utils.compat import uuid7


def new_id() -> UUID:
    return uuid7()
