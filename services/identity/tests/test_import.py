"""CSV bulk import: all rows or nothing, a per-row report, accounts with activation codes."""

from __future__ import annotations

import csv
import io
import json
import os
import random
from typing import Any

import pytest
from sotay_contracts import CloudEvent, parse_event
from sotay_contracts.events.identity import MemberCreated
from sotay_devstack.demo import person_name
from sotay_identity.crypto import sha256
from sotay_identity.members import activation, importer

ADMIN = "Lê Văn Huyện"  # org_admin of district A
DISTRICT_B_ADMIN = "Phạm Văn Bình"
VI_HEADER = [
    "STT",
    "Số thẻ đảng viên",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Số điện thoại",
    "Email",
    "Ngày vào Đảng",
    "Ngày chính thức",
    "Số CCCD",
]


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def rows(n: int, *, start: int = 0, seed: int = 7) -> list[list[str]]:
    rng = random.Random(seed)
    out = []
    for i in range(start, start + n):
        year = rng.randint(1950, 1998)
        out.append(
            [
                str(i + 1),
                f"93.{i:06d}",
                person_name(rng)[0],
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}",
                rng.choice(["Nam", "Nữ"]),
                f"09{i:08d}" if i % 3 else "",
                f"dv{i}@example.vn" if i % 2 else "",
                f"03/02/{year + 25}",
                f"03/02/{year + 26}",
                f"{rng.randint(0, 10**12 - 1):012d}",
            ]
        )
    return out


def to_csv(
    header: list[str], body: list[list[str]], *, bom: bool = True, delimiter: str = ","
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(body)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()


async def counts(identity: Any) -> dict[str, int]:
    async with identity.pool.acquire() as conn:
        return {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
            for table in ("members", "memberships", "accounts", "outbox", "audit_log")
        }


async def post_csv(identity: Any, token: str, data: bytes, **params: Any) -> Any:
    return await identity.client.post(
        "/api/v1/members/import",
        content=data,
        params=params,
        headers={**bearer(token), "content-type": "text/csv"},
    )


async def test_import_1000_rows(identity: Any, tree: Any, token_for: Any) -> None:
    admin = await token_for(ADMIN)
    body = rows(1000)
    response = await post_csv(
        identity, admin, to_csv(VI_HEADER, body), cell_id=tree.ids["cell_a1a"]
    )
    assert response.status_code == 201, response.text[:2000]
    assert response.headers["cache-control"] == "no-store"
    result = response.json()
    assert result["imported"] == 1000 and len(result["accounts"]) == 1000
    assert {a["card_number"] for a in result["accounts"]} == {r[1] for r in body}

    cards = [r[1] for r in body]
    async with identity.pool.acquire() as conn:
        members = await conn.fetch(
            "SELECT m.id, m.card_number, m.full_name, m.search_name, m.phone, m.sex, "
            "m.date_of_birth, m.membership, m.citizen_id_enc, a.activation_digest, "
            "a.password_hash, a.must_change_password, s.org_path "
            "FROM members m JOIN accounts a ON a.member_id = m.id "
            "JOIN memberships s ON s.member_id = m.id AND s.ended_on IS NULL "
            "WHERE m.card_number = ANY($1)",
            cards,
        )
        audit = await conn.fetch(
            "SELECT actor_id, details FROM audit_log WHERE action = 'members.imported'"
        )
    assert len(members) == 1000
    by_card = {m["card_number"]: m for m in members}
    for account in result["accounts"]:
        m = by_card[account["card_number"]]
        assert str(m["id"]) == account["member_id"]
        assert bytes(m["activation_digest"]) == activation.digest(account["activation_code"])
        assert m["password_hash"] is None and m["must_change_password"]
        assert m["org_path"] == tree.paths["cell_a1a"]
    digests = {bytes(m["activation_digest"]) for m in members}
    assert len(digests) == 1000
    first = by_card["93.000000"]
    assert first["full_name"] == body[0][2] and first["sex"] == (
        "male" if body[0][4] == "Nam" else "female"
    )
    assert first["date_of_birth"].strftime("%d/%m/%Y") == body[0][3]
    assert first["phone"] is None and by_card["93.000001"]["phone"] == "0900000001"
    assert first["membership"] == "official"
    assert body[0][9].encode() not in bytes(first["citizen_id_enc"])
    assert (len(audit), audit[0]["details"]["count"], audit[0]["actor_id"]) == (
        1,
        1000,
        tree.members[ADMIN],
    )

    async with identity.pool.acquire() as conn:
        outbox = await conn.fetch("SELECT subject, headers, body FROM outbox ORDER BY seq")
    # Every member event first, then every member's directory entry (name and card number,
    # an internal subject): consumers apply each run of one type in one statement.
    assert [r["subject"] for r in outbox] == ["identity.member.created.v1"] * 1000 + [
        "identity.directory.described.v1"
    ] * 1000
    directory = [
        parse_event(CloudEvent.from_nats(r["headers"], bytes(r["body"]))) for r in outbox[1000:]
    ]
    assert {(e.member_id, e.full_name, e.card_number, e.cell_id) for e in directory} == {
        (m["id"], m["full_name"], m["card_number"], tree.ids["cell_a1a"]) for m in members
    }
    outbox = outbox[:1000]
    ids = set()
    names = {r[2] for r in body}
    for row in outbox:
        event = parse_event(CloudEvent.from_nats(row["headers"], bytes(row["body"])))
        assert isinstance(event, MemberCreated)
        assert event.cell_id == tree.ids["cell_a1a"] and event.org_path == tree.paths["cell_a1a"]
        text = bytes(row["body"]).decode()
        assert not any(name in text for name in names) and "93.0" not in text
        ids.add(event.member_id)
    assert ids == {m["id"] for m in members}

    # Imported members are searchable without diacritics.
    name = body[5][2]
    found = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['cell_a1a']}/members",
        params={"q": importer.fields.fold(name), "limit": 500},
        headers=bearer(admin),
    )
    assert name in {m["full_name"] for m in found.json()["items"]}


async def test_import_multipart_with_cell_codes_and_csv_codes(
    identity: Any, tree: Any, token_for: Any
) -> None:
    admin = await token_for(ADMIN)
    async with identity.pool.acquire() as conn:
        codes = {
            name: await conn.fetchval("SELECT code FROM org_units WHERE id = $1", tree.ids[name])
            for name in ("cell_a1a", "cell_a1b")
        }
    header = ["card_number", "full_name", "date_of_birth", "sex", "phone", "cell_code"]
    body = [
        ["A-1", "Lý Thị Mai", "1990-01-02", "Nữ", "0355 123 456", codes["cell_a1a"]],
        ["A-2", "Ngô Quang Hải", "02/01/1991", "nam", "+84355123457", codes["cell_a1b"]],
        ["A-3", "Dương Minh Đức", "", "", "", codes["cell_a1b"]],
    ]
    response = await identity.client.post(
        "/api/v1/members/import",
        params={"format": "csv"},
        files={
            "file": ("danh-sach.csv", to_csv(header, body, bom=False, delimiter=";"), "text/csv")
        },
        headers=bearer(admin),
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    printed = list(csv.reader(io.StringIO(text)))
    assert printed[0][:3] == ["Số thẻ đảng viên", "Họ và tên", "Mã kích hoạt"]
    assert [r[0] for r in printed[1:]] == ["A-1", "A-2", "A-3"]
    async with identity.pool.acquire() as conn:
        placed = dict(
            await conn.fetch(
                "SELECT card_number, cell_id FROM members WHERE card_number LIKE 'A-%'"
            )
        )
        digests = {
            bytes(d)
            for (d,) in await conn.fetch(
                "SELECT activation_digest FROM accounts a JOIN members m ON m.id = a.member_id "
                "WHERE m.card_number LIKE 'A-%'"
            )
        }
    assert placed == {
        "A-1": tree.ids["cell_a1a"],
        "A-2": tree.ids["cell_a1b"],
        "A-3": tree.ids["cell_a1b"],
    }
    assert {sha256(activation.canonical(r[2]) or "") for r in printed[1:]} == digests


def report(response: Any) -> list[tuple[int, str | None, str]]:
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["error_count"] >= len(body["errors"]) > 0
    return [(e["row"], e["column"], e["reason"]) for e in body["errors"]]


async def test_wrong_encoding_is_explained(identity: Any, tree: Any, token_for: Any) -> None:
    admin = await token_for(ADMIN)
    before = await counts(identity)
    text = to_csv(VI_HEADER, rows(20), bom=False).decode()
    for encoding in ("cp1258", "latin-1", "utf-16"):
        data = text.encode(encoding, errors="replace")
        response = await post_csv(identity, admin, data, cell_id=tree.ids["cell_a1a"])
        assert response.status_code == 422, encoding
        ((_, column, reason),) = report(response)
        assert "UTF-8" in reason and column is None
    assert await counts(identity) == before


async def test_every_bad_row_is_reported_and_nothing_imported(
    identity: Any, tree: Any, token_for: Any
) -> None:
    admin = await token_for(ADMIN)
    before = await counts(identity)
    good = rows(30)
    bad = [list(r) for r in good]
    bad[3][1] = bad[2][1]  # duplicate card number in the file (row 5 repeats row 4)
    bad[4][1] = tree.cards["Hoàng Văn Đảng Viên"]  # already in the database
    bad[5][3] = "31/02/1980"  # no such day
    bad[6][3] = "1980/13/01"  # garbage date
    bad[7][2] = ""  # name missing
    bad[8][9] = "12345"  # citizen id too short
    bad[9][5] = "0912000001"  # phone of a member already in the database
    bad[10][4] = "Khác"  # sex
    bad[11][8] = "01/01/1900"  # official before admission
    bad[12] = bad[12][:5]  # short row
    bad[13][6] = "@@"
    response = await post_csv(identity, admin, to_csv(VI_HEADER, bad), cell_id=tree.ids["cell_a1a"])
    assert response.status_code == 422, response.text
    problems = report(response)
    by_row = {row: (column, reason) for row, column, reason in problems}
    assert by_row[5] == ("Số thẻ đảng viên", "Số thẻ đảng viên trùng với dòng 4")
    assert by_row[6][0] == "Số thẻ đảng viên" and "đã có" in by_row[6][1]
    assert by_row[7] == ("Ngày sinh", "Ngày không tồn tại")
    assert by_row[8][0] == "Ngày sinh"
    assert by_row[9][0] == "Họ và tên"
    assert by_row[10][0] == "Số CCCD"
    assert by_row[11][0] == "Số điện thoại" and "đảng viên khác" in by_row[11][1]
    assert by_row[12][0] == "Giới tính"
    assert by_row[13][0] in ("Ngày chính thức", "Ngày vào Đảng")
    assert by_row[14][0] is None and "ô" in by_row[14][1]
    assert by_row[15][0] == "Email"
    assert sorted(by_row) == [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    assert await counts(identity) == before


async def test_missing_and_unknown_columns(identity: Any, tree: Any, token_for: Any) -> None:
    admin = await token_for(ADMIN)
    before = await counts(identity)
    no_name = [h for h in VI_HEADER if h != "Họ và tên"]
    data = to_csv(no_name, [r[:2] + r[3:] for r in rows(3)])
    response = await post_csv(identity, admin, data, cell_id=tree.ids["cell_a1a"])
    assert response.status_code == 422
    assert report(response) == [(1, "Họ và tên", "Thiếu cột bắt buộc: Họ và tên")]

    # No cell given at all: neither ?cell_id nor a "Mã chi bộ" column.
    response = await post_csv(identity, admin, to_csv(VI_HEADER, rows(3)))
    assert response.status_code == 422
    assert report(response)[0][:2] == (1, "Mã chi bộ")

    odd = to_csv([*VI_HEADER, "Quê quán"], [[*r, "Hà Nội"] for r in rows(3)])
    response = await post_csv(identity, admin, odd, cell_id=tree.ids["cell_a1a"])
    assert response.status_code == 422
    assert report(response)[0][:2] == (1, "Quê quán")

    empty = await post_csv(identity, admin, b"", cell_id=tree.ids["cell_a1a"])
    assert empty.status_code == 422
    header_only = await post_csv(
        identity, admin, to_csv(VI_HEADER, []), cell_id=tree.ids["cell_a1a"]
    )
    assert header_only.status_code == 422
    assert await counts(identity) == before


async def test_unknown_cells_reported_per_row(identity: Any, tree: Any, token_for: Any) -> None:
    admin = await token_for(ADMIN)
    before = await counts(identity)
    async with identity.pool.acquire() as conn:
        code_a = await conn.fetchval(
            "SELECT code FROM org_units WHERE id = $1", tree.ids["cell_a1a"]
        )
        code_b = await conn.fetchval(
            "SELECT code FROM org_units WHERE id = $1", tree.ids["cell_b1"]
        )
        code_commune = await conn.fetchval(
            "SELECT code FROM org_units WHERE id = $1", tree.ids["commune_a1"]
        )
    header = [*VI_HEADER, "Mã chi bộ"]
    body = [
        [*r, code]
        for r, code in zip(rows(4), [code_a, "KHONG-CO", code_b, code_commune], strict=True)
    ]
    response = await post_csv(identity, admin, to_csv(header, body))
    assert response.status_code == 422
    problems = report(response)
    # Unknown code, a cell of district B (outside this admin's reach) and a committee: alike.
    assert [(r, c) for r, c, _ in problems] == [
        (3, "Mã chi bộ"),
        (4, "Mã chi bộ"),
        (5, "Mã chi bộ"),
    ]
    assert len({reason for _, _, reason in problems}) == 1
    missing = await post_csv(identity, admin, to_csv(header, [rows(1)[0] + [""]]))
    assert missing.status_code == 422 and report(missing)[0][:2] == (2, "Mã chi bộ")
    assert await counts(identity) == before


async def test_garbage_and_oversized_uploads(identity: Any, tree: Any, token_for: Any) -> None:
    admin = await token_for(ADMIN)
    before = await counts(identity)
    garbage = os.urandom(10 * 1024 * 1024)
    response = await post_csv(identity, admin, garbage, cell_id=tree.ids["cell_a1a"])
    assert response.status_code == 422
    assert "UTF-8" in report(response)[0][2]

    # Valid UTF-8 that is not a roster: every row is reported (the list is capped).
    rng = random.Random(1)
    text = "\n".join("".join(rng.choice('abcxyz,"; đươ') for _ in range(60)) for _ in range(5000))
    response = await post_csv(identity, admin, text.encode(), cell_id=tree.ids["cell_a1a"])
    assert response.status_code == 422
    assert len(response.json()["errors"]) <= importer.MAX_REPORTED

    nul = await post_csv(
        identity, admin, b"card_number,full_name\n\x00\x00,abc\n", cell_id=tree.ids["cell_a1a"]
    )
    assert nul.status_code == 422

    too_big = b"a" * (importer.MAX_BYTES + 1)
    response = await post_csv(identity, admin, too_big, cell_id=tree.ids["cell_a1a"])
    assert response.status_code == 413
    response = await identity.client.post(
        "/api/v1/members/import",
        params={"cell_id": str(tree.ids["cell_a1a"])},
        files={"file": ("big.csv", too_big, "text/csv")},
        headers=bearer(admin),
    )
    assert response.status_code == 413

    as_json = await identity.client.post(
        "/api/v1/members/import",
        params={"cell_id": str(tree.ids["cell_a1a"])},
        json={"rows": []},
        headers=bearer(admin),
    )
    assert as_json.status_code == 415
    no_file = await identity.client.post(
        "/api/v1/members/import",
        params={"cell_id": str(tree.ids["cell_a1a"])},
        files={"other": ("x.csv", b"a,b", "text/csv")},
        headers=bearer(admin),
    )
    assert no_file.status_code == 400
    broken_multipart = await identity.client.post(
        "/api/v1/members/import",
        params={"cell_id": str(tree.ids["cell_a1a"])},
        content=b"--x\r\nnonsense",
        headers={**bearer(admin), "content-type": "multipart/form-data; boundary=x"},
    )
    assert 400 <= broken_multipart.status_code < 500
    assert await counts(identity) == before


@pytest.mark.parametrize("who", [None, "Hoàng Văn Đảng Viên", "Đỗ Thị Bí Thư", DISTRICT_B_ADMIN])
async def test_import_refused_to_outsiders(
    identity: Any, tree: Any, token_for: Any, who: str | None
) -> None:
    before = await counts(identity)
    headers = {"content-type": "text/csv"}
    if who:
        headers.update(bearer(await token_for(who)))
    for params in ({"cell_id": str(tree.ids["cell_a1a"])}, {}):
        response = await identity.client.post(
            "/api/v1/members/import",
            params=params,
            headers=headers,
            content=to_csv([*VI_HEADER, "Mã chi bộ"], [[*r, "ORG-4"] for r in rows(3)]),
        )
        if who is None:
            assert response.status_code == 401
        elif who == DISTRICT_B_ADMIN and not params:
            # An admin elsewhere: the cells named in the file are unknown to them.
            assert response.status_code == 422
            assert all(c == "Mã chi bộ" for _, c, _ in report(response))
        else:
            assert response.status_code in (403, 404), (who, params)
        assert "activation" not in response.text
    assert await counts(identity) == before


def test_activation_codes_have_100_bits_and_read_forgivingly() -> None:
    codes = {activation.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:50]:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4, 4, 4]
        assert set(code.replace("-", "")) <= set(activation.ALPHABET)
        sloppy = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
        assert activation.matches(sloppy, activation.digest(code))
    assert activation.CODE_BITS >= 100
    assert activation.canonical("not a code") is None
    assert not activation.matches("", sha256(""))
    assert json.dumps(importer.LABELS, ensure_ascii=False)
