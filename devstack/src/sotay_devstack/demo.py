"""The demo province: a synthetic party organisation shaped like the reference one.

Reference (DESIGN.md): 9 district-level committees, 2,920 cells — 190 grassroots cells (chi bộ
cơ sở) and 2,720 cells under grassroots committees (đảng ủy cơ sở) — ≈ 60,000 members; village
and residential cells are 46 % of the cells and hold 61 % of the members (≈ 27 each).

``small`` (the default of ``make run``) keeps that shape at a size that loads in seconds;
``full`` builds the reference size. Everything is generated from a fixed seed (same province
every time), written in bulk with its events (``identity.org.created.v1``,
``identity.member.created.v1``, ``identity.role.granted.v1``) through the outbox, so every
service's projection receives the province like any other change. Loaded only into an empty
database.

Four demo accounts get passwords (written to ``demo-credentials.json``): an org admin at
province level and an operator of the province (the root: the audit logs are theirs), both with
TOTP as the policy requires, a cell secretary and a member of that cell.
Other members get activation digests of codes nobody knows: they exist to be counted, listed and
notified, not to log in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pyotp
from argon2 import PasswordHasher
from sotay_contracts import CloudEvent
from sotay_contracts.events import identity as ev
from sotay_identity.crypto import DataCipher, sha256
from sotay_identity.settings import IdentitySettings
from sotay_kit import db, outbox
from sotay_kit.text import fold

Size = Literal["small", "full"]

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Trịnh",
    "Lương",
    "Mai",
]
MIDDLE_M = ["Văn", "Hữu", "Đức", "Minh", "Quang", "Thành", "Công", "Xuân", "Đình", "Ngọc"]
MIDDLE_F = ["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Kim", "Phương", "Mai", "Bích", "Hồng"]
GIVEN_M = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hải",
    "Hùng",
    "Khoa",
    "Long",
    "Nam",
    "Phong",
    "Quân",
    "Sơn",
    "Tâm",
    "Thắng",
    "Trung",
    "Tuấn",
    "Việt",
    "Vinh",
    "Hiếu",
    "Lộc",
]
GIVEN_F = [
    "Anh",
    "Chi",
    "Dung",
    "Giang",
    "Hà",
    "Hạnh",
    "Hoa",
    "Hương",
    "Lan",
    "Linh",
    "Mai",
    "Ngân",
    "Nhung",
    "Oanh",
    "Phượng",
    "Quyên",
    "Thảo",
    "Trang",
    "Vân",
    "Yến",
]
DISTRICTS = [
    "Đảng bộ thành phố Hòa Bình",
    "Đảng bộ thị xã Sông Lam",
    "Đảng bộ huyện An Phú",
    "Đảng bộ huyện Bình Sơn",
    "Đảng bộ huyện Cát Tiên",
    "Đảng bộ huyện Đồng Xuân",
    "Đảng bộ huyện Hòa Vang",
    "Đảng bộ huyện Tân Lập",
    "Đảng bộ huyện Yên Thế",
]
VILLAGE = ["Chi bộ thôn", "Chi bộ tổ dân phố", "Chi bộ khu phố", "Chi bộ bản"]
WORKPLACE = [
    "Chi bộ Trường Tiểu học",
    "Chi bộ Trường THCS",
    "Chi bộ Trạm Y tế",
    "Chi bộ Công an xã",
    "Chi bộ Quân sự xã",
    "Chi bộ Hợp tác xã",
    "Chi bộ Cơ quan",
]
PLACES = [
    "Đông",
    "Tây",
    "Nam",
    "Bắc",
    "Thượng",
    "Hạ",
    "Trung",
    "An Lạc",
    "Phú Mỹ",
    "Tân Hòa",
    "Hòa Bình",
    "Thuận An",
    "Phước Hải",
    "Long Điền",
    "Mỹ Thạnh",
    "Vĩnh Phúc",
]


@dataclass(frozen=True)
class Shape:
    districts: int
    grassroots_cells: int  # chi bộ cơ sở, directly under a district
    committees: int  # đảng ủy cơ sở
    committee_cells: int  # chi bộ trực thuộc đảng ủy cơ sở
    village_share: float  # share of all cells that are village/residential cells
    village_members: int  # ≈ 27 in the reference
    other_members: int  # ≈ 15 in the reference


SHAPES: dict[str, Shape] = {
    "full": Shape(9, 190, 198, 2720, 0.46, 27, 15),
    "small": Shape(2, 3, 3, 12, 0.46, 12, 8),
}


@dataclass
class _Org:
    id: uuid.UUID
    key: int
    parent: _Org | None
    path: str
    title: str
    kind: str
    code: str


@dataclass
class _Build:
    orgs: list[_Org] = field(default_factory=list)
    members: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[CloudEvent] = field(default_factory=list)
    next_key: int = 1
    next_card: int = 1


def person_name(rng: random.Random) -> tuple[str, str]:
    """A plausible Vietnamese full name and its sex, for demo data, tests and benchmarks."""
    if rng.random() < 0.55:
        return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_M)} {rng.choice(GIVEN_M)}", "male"
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_F)} {rng.choice(GIVEN_F)}", "female"


def build_province(size: Size, seed: int = 2026) -> _Build:
    """The province's orgs and members in memory (no I/O), deterministic for a seed."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    shape = SHAPES[size]
    b = _Build()
    now = datetime.now(UTC)

    def org(parent: _Org | None, title: str, kind: str) -> _Org:
        key = b.next_key
        b.next_key += 1
        node = _Org(
            uuid.UUID(int=rng.getrandbits(128), version=4),
            key,
            parent,
            f"{parent.path}.{key}" if parent else str(key),
            title,
            kind,
            f"DB{key:05d}",
        )
        b.orgs.append(node)
        b.events.append(
            outbox.build(
                ev.OrgCreated(
                    org_id=node.id,
                    parent_id=parent.id if parent else None,
                    path=node.path,
                    kind=ev.OrgKind(kind),
                    title=title,
                    code=node.code,
                    status=ev.OrgStatus.ACTIVE,
                    valid_from=date(2025, 7, 1),
                    revision=1,
                    occurred_at=now,
                )
            )
        )
        return node

    def members(cell: _Org, n: int) -> None:
        for _ in range(n):
            full_name, sex = person_name(rng)
            born = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 52))
            admitted = max(born + timedelta(days=365 * 19), date(1975, 1, 1)) + timedelta(
                days=rng.randint(0, 365 * 10)
            )
            official = admitted + timedelta(days=365) if rng.random() > 0.04 else None
            member_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            card = f"{b.next_card:08d}"
            b.next_card += 1
            phone = f"09{rng.randint(0, 99_999_999):08d}" if rng.random() < 0.9 else None
            b.members.append(
                (
                    member_id,
                    card,
                    full_name,
                    fold(full_name),
                    born,
                    sex,
                    phone,
                    admitted,
                    official,
                    "official" if official else "probationary",
                    cell.id,
                    cell.path,
                )
            )
            b.events.append(
                outbox.build(
                    ev.MemberCreated(
                        member_id=member_id,
                        cell_id=cell.id,
                        org_path=cell.path,
                        membership=ev.Membership.OFFICIAL
                        if official
                        else ev.Membership.PROBATIONARY,
                        status=ev.MemberStatus.ACTIVE,
                        revision=1,
                        occurred_at=now,
                    )
                )
            )

    province = org(None, "Đảng bộ tỉnh Thanh Sơn", "province")
    districts = [
        org(province, DISTRICTS[d % len(DISTRICTS)], "district") for d in range(shape.districts)
    ]
    for i in range(shape.grassroots_cells):
        cell = org(
            districts[i % shape.districts],
            f"Chi bộ cơ sở {rng.choice(WORKPLACE)[7:]} số {i + 1}",
            "grassroots_cell",
        )
        members(cell, max(5, round(rng.gauss(shape.other_members, 3))))
    committees = [
        org(
            districts[c % shape.districts],
            f"Đảng ủy xã {rng.choice(PLACES)} {c + 1}",
            "grassroots_committee",
        )
        for c in range(shape.committees)
    ]
    # Village and residential cells are all under grassroots committees.
    villages = round((shape.grassroots_cells + shape.committee_cells) * shape.village_share)
    for k in range(shape.committee_cells):
        committee = committees[k % shape.committees]
        if k < villages:
            title = f"{rng.choice(VILLAGE)} {rng.choice(PLACES)} {k // shape.committees + 1}"
            n = max(8, round(rng.gauss(shape.village_members, 5)))
        else:
            title = f"{rng.choice(WORKPLACE)} {rng.choice(PLACES)}"
            n = max(4, round(rng.gauss(shape.other_members, 3)))
        members(org(committee, title, "cell"), n)
    return b


@dataclass
class DemoAccount:
    member_id: uuid.UUID
    username: str
    password: str
    totp_secret: str | None = None


async def load(dsn: str, settings: IdentitySettings, size: Size = "small") -> dict[str, Any] | None:
    """Load the demo province into an empty identity database. Returns the demo credentials,
    or None when the database already holds an org tree."""
    b = build_province(size)
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )
    cipher = DataCipher(settings.data_key_bytes())
    conn = await db.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE org_units IN EXCLUSIVE MODE")
            if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM org_units)"):
                return None
            await conn.copy_records_to_table(
                "org_units",
                records=[
                    (
                        o.id,
                        o.key,
                        o.parent.id if o.parent else None,
                        o.path,
                        o.code,
                        o.title,
                        o.kind,
                        date(2025, 7, 1),
                    )
                    for o in b.orgs
                ],
                columns=["id", "key", "parent_id", "path", "code", "title", "kind", "valid_from"],
            )
            await conn.execute("SELECT setval('org_key_seq', $1)", b.next_key)
            await conn.copy_records_to_table(
                "members",
                records=[m[:11] for m in b.members],
                columns=[
                    "id",
                    "card_number",
                    "full_name",
                    "search_name",
                    "date_of_birth",
                    "sex",
                    "phone",
                    "admitted_on",
                    "official_on",
                    "membership",
                    "cell_id",
                ],
            )
            await conn.copy_records_to_table(
                "memberships",
                records=[(m[0], m[10], m[11], m[7]) for m in b.members],
                columns=["member_id", "cell_id", "org_path", "started_on"],
            )
            expires = datetime.now(UTC) + timedelta(days=settings.activation_code_ttl_days)
            await conn.copy_records_to_table(
                "accounts",
                records=[(m[0], sha256(secrets.token_bytes(20)), expires) for m in b.members],
                columns=["member_id", "activation_digest", "activation_expires_at"],
            )
            accounts = await _demo_accounts(conn, b, hasher, cipher)
            await outbox.enqueue_cloud_events(conn, b.events + accounts.pop("_events"))
    finally:
        await conn.close()
    return accounts


async def _demo_accounts(
    conn: Any, b: _Build, hasher: PasswordHasher, cipher: DataCipher
) -> dict[str, Any]:
    province = b.orgs[0]
    village = next(o for o in b.orgs if o.kind == "cell" and o.title.startswith(tuple(VILLAGE)))
    in_village = [m for m in b.members if m[10] == village.id]
    admin_m = b.members[0]
    secretary_m, member_m = in_village[0], in_village[1]
    operator_m = next(m for m in b.members if m not in (admin_m, secretary_m, member_m))
    now = datetime.now(UTC)
    events = []
    result: dict[str, Any] = {}
    for label, m, role, org in (
        ("admin", admin_m, "org_admin", province),
        ("operator", operator_m, "operator", province),
        ("secretary", secretary_m, "cell_secretary", village),
        ("member", member_m, None, village),
    ):
        password = "Demo-" + secrets.token_urlsafe(9)
        totp = pyotp.random_base32() if label in ("admin", "operator") else None
        await conn.execute(
            "UPDATE accounts SET password_hash = $2, activation_digest = NULL, "
            "must_change_password = false, activated_at = now(), totp_secret_enc = $3, "
            "totp_enabled = $4 WHERE member_id = $1",
            m[0],
            hasher.hash(password),
            cipher.encrypt(totp, f"totp:{m[0]}") if totp else None,
            totp is not None,
        )
        if role:
            grant_id = uuid.uuid4()
            await conn.execute(
                "INSERT INTO role_grants (id, member_id, role, org_id) VALUES ($1, $2, $3, $4)",
                grant_id,
                m[0],
                role,
                org.id,
            )
            events.append(
                outbox.build(
                    ev.RoleGranted(
                        grant_id=grant_id,
                        member_id=m[0],
                        role=role,
                        org_id=org.id,
                        org_path=org.path,
                        granted_by=None,
                        occurred_at=now,
                    )
                )
            )
        events.append(
            outbox.build(
                ev.AccountActivated(member_id=m[0], cell_id=m[10], org_path=m[11], occurred_at=now)
            )
        )
        entry: dict[str, Any] = {
            "username": m[1],
            "password": password,
            "member_id": str(m[0]),
            "full_name": m[2],
        }
        if totp:
            entry["totp_secret"] = totp
        result[label] = entry
    result["orgs"] = {
        "province_id": str(province.id),
        "cell_id": str(village.id),
        "district_id": str(village.parent.parent.id)
        if village.parent and village.parent.parent
        else None,
    }
    result["counts"] = {
        "orgs": len(b.orgs),
        "members": len(b.members),
        "cells": sum(o.kind in ("cell", "grassroots_cell") for o in b.orgs),
    }
    result["_events"] = events
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Load the demo province into identity.")
    parser.add_argument("--size", choices=sorted(SHAPES), default="small")
    parser.add_argument("--credentials", type=Path, required=True)
    args = parser.parse_args()
    settings = IdentitySettings()
    creds = asyncio.run(load(settings.database_url, settings, args.size))
    if creds is None:
        print("demo: the identity database already holds an org tree; nothing loaded")
        return
    args.credentials.parent.mkdir(parents=True, exist_ok=True)
    args.credentials.touch(mode=0o600, exist_ok=True)
    args.credentials.write_text(json.dumps(creds, ensure_ascii=False, indent=2))
    os.chmod(args.credentials, 0o600)
    counts = creds["counts"]
    print(
        f"demo: loaded {counts['orgs']} org units, {counts['cells']} cells, "
        f"{counts['members']} members"
    )


if __name__ == "__main__":
    main()
