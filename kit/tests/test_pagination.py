"""Keyset cursors: what a listing wrote reads back; anything else is a clean 400."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sotay_kit.errors import BadRequest
from sotay_kit.pagination import (
    INVALID_CURSOR,
    decode_keyset,
    encode_cursor,
    key_int,
    key_number,
    key_time,
    key_uuid,
)


def _time_and_id(raw: Any) -> tuple[datetime, uuid.UUID]:
    when, ident = raw
    return key_time(when), key_uuid(ident)


def test_a_cursor_reads_back_the_key_it_was_written_with() -> None:
    when = datetime(2026, 3, 1, 19, 30, tzinfo=timezone(timedelta(hours=7)))
    ident = uuid.uuid4()
    cursor = encode_cursor([when.isoformat(), str(ident)])
    assert decode_keyset(cursor, _time_and_id) == (when.astimezone(UTC), ident)
    assert decode_keyset(encode_cursor(41), key_int) == 41
    assert decode_keyset(encode_cursor(2.5), key_number) == 2.5
    assert decode_keyset(None, key_int) is None


@pytest.mark.parametrize(
    ("cursor", "parse"),
    [
        ("!!not base64 json", key_int),
        (encode_cursor("12"), key_int),  # a string where a number was written
        (encode_cursor(True), key_int),
        (encode_cursor(["2026-03-01T19:30:00", str(uuid.uuid4())]), _time_and_id),  # no offset
        (encode_cursor(["2026-03-01T19:30:00+07:00", 5]), _time_and_id),  # not a uuid
        (encode_cursor(["2026-03-01T19:30:00+07:00"]), _time_and_id),  # too short
        (encode_cursor({"a": 1}), _time_and_id),
        (encode_cursor(10**400), key_number),  # beyond a float
    ],
)
def test_a_tampered_cursor_is_a_bad_request(cursor: str, parse: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        decode_keyset(cursor, parse)
    assert caught.value.detail == INVALID_CURSOR
