"""Hostile input (NUL characters, cursors from nowhere) is a clean 4xx, never a 500."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sotay_kit.pagination import encode_cursor

from .conftest import MeetingsApp, meeting_body, schedule


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("cursor", ["0001-01-01T00:00:00+14:00", str(uuid.uuid4())]),
        ("cursor", ["9999-12-31T23:59:59-14:00", str(uuid.uuid4())]),
        ("cursor", ["2026-12-01T00:00:00", str(uuid.uuid4())]),
        ("cursor", [10**30, str(uuid.uuid4())]),
        ("cursor", {"a": 1, "b": 2}),
        ("title", "Họp\u0000chi bộ"),
        ("location", "Nhà\u0000văn hóa"),
        ("agenda", ["Mục\u0000một"]),
        ("label", "Nguyễn\u0000Văn"),
        ("note", "Ốm\u0000nặng"),
    ],
)
async def test_hostile_input_is_a_clean_4xx(svc: MeetingsApp, kind: str, value: Any) -> None:
    w = svc.world
    if kind == "cursor":
        for params in (
            {"scope": "mine", "cursor": encode_cursor(value)},
            {"org_id": str(w.orgs["cell_a"]), "month": "2026-12", "cursor": encode_cursor(value)},
        ):
            r = await svc.client.get("/api/v1/meetings", params=params, headers=svc.auth("sec"))
            assert r.status_code == 400, r.text
        return
    if kind in ("title", "location", "agenda"):
        r = await svc.client.post(
            "/api/v1/meetings",
            json={**meeting_body(svc), kind: value},
            headers=svc.auth("sec"),
        )
        assert r.status_code == 422, r.text
        return
    mid = (await schedule(svc))["id"]
    if kind == "label":
        r = await svc.client.put(
            f"/api/v1/meetings/{mid}/roster-labels",
            json={"labels": {str(w.members["m1"]): value}},
            headers=svc.auth("sec"),
        )
    else:
        r = await svc.client.post(
            f"/api/v1/meetings/{mid}/rsvp",
            json={"response": "absent", "reason_code": "om", "note": value},
            headers=svc.auth("m1"),
        )
    assert r.status_code == 422, r.text
