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

Five demo accounts get passwords (written to ``demo-credentials.json``): an org admin at
province level and an operator of the province (the root: the audit logs are theirs), both with
TOTP as the policy requires, a committee member of the district above the demo cell, a cell
secretary and a member of that cell.
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

from sotay_contracts import CloudEvent
from sotay_contracts.events import identity as ev
from sotay_identity.auth import passwords, totp
from sotay_identity.auth import repository as accounts_repo
from sotay_identity.crypto import DataCipher
from sotay_identity.grants import repository as grants_repo
from sotay_identity.members import activation, directory
from sotay_identity.members import repository as members_repo
from sotay_identity.orgs import repository as orgs_repo
from sotay_identity.settings import IdentitySettings
from sotay_kit import db, outbox
from sotay_kit.text import fold

Size = Literal["small", "full"]

# The day every demo organisation exists from.
VALID_FROM = date(2025, 7, 1)

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
class _Member:
    id: uuid.UUID
    card_number: str
    full_name: str
    date_of_birth: date
    sex: str
    phone: str | None
    admitted_on: date
    official_on: date | None
    cell: _Org

    @property
    def membership(self) -> str:
        return "official" if self.official_on else "probationary"


@dataclass
class _Build:
    orgs: list[_Org] = field(default_factory=list)
    members: list[_Member] = field(default_factory=list)
    events: list[CloudEvent] = field(default_factory=list)
    # identity.directory.described.v1 of every member, relayed after all the member events.
    directory: list[CloudEvent] = field(default_factory=list)
    next_key: int = 1
    next_card: int = 1
    next_id: int = 1


# Phone numbers: 09 and eight digits, n ↦ (n·a + c) mod 10⁸ with a coprime to 10⁸, a permutation
# of 0 … 10⁸−1: distinct members get distinct numbers that do not look like a counter.
_PHONE_SPACE = 10**8
_PHONE_STEP = 7_919_113
_PHONE_OFFSET = 31_415_926


def demo_phone(serial: int) -> str:
    """The demo phone number of the member with this serial number (distinct for distinct
    serials below 10⁸)."""
    if not 0 <= serial < _PHONE_SPACE:
        raise ValueError("serial out of range")
    return f"09{(serial * _PHONE_STEP + _PHONE_OFFSET) % _PHONE_SPACE:08d}"


def _new_id(b: _Build, rng: random.Random) -> uuid.UUID:
    """A version-4 UUID whose low 62 bits are a serial number (the variant bits sit above them):
    random-looking, deterministic for a seed, and never the same twice in one province."""
    serial = b.next_id
    b.next_id += 1
    return uuid.UUID(int=(rng.getrandbits(64) << 64) | serial, version=4)


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
            _new_id(b, rng),
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
                    valid_from=VALID_FROM,
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
            member_id = _new_id(b, rng)
            serial = b.next_card
            b.next_card += 1
            b.members.append(
                _Member(
                    id=member_id,
                    card_number=f"{serial:08d}",
                    full_name=full_name,
                    date_of_birth=born,
                    sex=sex,
                    phone=demo_phone(serial) if rng.random() < 0.9 else None,
                    admitted_on=admitted,
                    official_on=official,
                    cell=cell,
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
            b.directory.append(
                outbox.build(
                    directory.described(
                        member_id=member_id,
                        full_name=full_name,
                        card_number=f"{serial:08d}",
                        cell_id=cell.id,
                        org_path=cell.path,
                        revision=1,
                        now=now,
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


async def load(dsn: str, settings: IdentitySettings, size: Size = "small") -> dict[str, Any] | None:
    """Load the demo province into an empty identity database. Returns the demo credentials,
    or None when the database already holds an org tree."""
    return await load_province(dsn, settings, build_province(size))


async def load_province(dsn: str, settings: IdentitySettings, b: _Build) -> dict[str, Any] | None:
    """Load a province built by :func:`build_province` (see :func:`load`)."""
    conn = await db.connect(dsn)
    try:
        async with conn.transaction():
            await orgs_repo.lock_tree(conn, exclusive=True)
            if await orgs_repo.has_orgs(conn):
                return None
            await orgs_repo.copy_in(conn, _org_rows(b))
            await members_repo.copy_in(conn, *_member_rows(b, settings))
            accounts = await _demo_accounts(conn, b, settings)
            await outbox.enqueue_cloud_events(
                conn, b.events + b.directory + accounts.pop("_events")
            )
    finally:
        await conn.close()
    return accounts


def _org_rows(b: _Build) -> list[tuple[Any, ...]]:
    """The org tree, parents first, in the column order of identity's repository."""
    rows = []
    for o in b.orgs:
        row = {
            "id": o.id,
            "key": o.key,
            "parent_id": o.parent.id if o.parent else None,
            "path": o.path,
            "code": o.code,
            "title": o.title,
            "kind": o.kind,
            "valid_from": VALID_FROM,
        }
        rows.append(tuple(row[c] for c in orgs_repo.COPY_COLUMNS))
    return rows


def _member_rows(
    b: _Build, settings: IdentitySettings
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Members, their open memberships and their accounts awaiting activation, in the column
    order of identity's repository. Nobody knows the activation codes: only the demo accounts
    log in."""
    expires = datetime.now(UTC) + timedelta(days=settings.activation_code_ttl_days)
    members, memberships, accounts = [], [], []
    for m in b.members:
        row = {
            "id": m.id,
            "card_number": m.card_number,
            "full_name": m.full_name,
            "search_name": fold(m.full_name),
            "date_of_birth": m.date_of_birth,
            "sex": m.sex,
            "phone": m.phone,
            "email": None,
            "admitted_on": m.admitted_on,
            "official_on": m.official_on,
            "membership": m.membership,
            "cell_id": m.cell.id,
            "status": "active",
            "citizen_id_enc": None,
        }
        members.append(tuple(row[c] for c in members_repo.MEMBER_COLUMNS))
        membership = {
            "member_id": m.id,
            "cell_id": m.cell.id,
            "org_path": m.cell.path,
            "started_on": m.admitted_on,
        }
        memberships.append(tuple(membership[c] for c in members_repo.MEMBERSHIP_COLUMNS))
        account = {
            "member_id": m.id,
            "activation_digest": activation.digest(activation.new_code()),
            "activation_expires_at": expires,
            "must_change_password": True,
        }
        accounts.append(tuple(account[c] for c in members_repo.ACCOUNT_COLUMNS))
    return members, memberships, accounts


async def _demo_accounts(
    conn: db.Connection, b: _Build, settings: IdentitySettings
) -> dict[str, Any]:
    cipher = DataCipher(settings.data_key_bytes())
    province = b.orgs[0]
    village = next(o for o in b.orgs if o.kind == "cell" and o.title.startswith(tuple(VILLAGE)))
    in_village = [m for m in b.members if m.cell is village]
    admin_m = b.members[0]
    secretary_m, member_m = in_village[0], in_village[1]
    operator_m = next(m for m in b.members if m not in (admin_m, secretary_m, member_m))
    # The committee member follows the district the demo cell lies in (its committee's parent).
    district = village.parent.parent if village.parent and village.parent.parent else province
    committee_m = next(
        m for m in b.members if m not in (admin_m, secretary_m, member_m, operator_m)
    )
    now = datetime.now(UTC)
    events = []
    result: dict[str, Any] = {}
    for label, m, role, org in (
        ("admin", admin_m, "org_admin", province),
        ("operator", operator_m, "operator", province),
        ("committee", committee_m, "committee_member", district),
        ("secretary", secretary_m, "cell_secretary", village),
        ("member", member_m, None, village),
    ):
        password = "Demo-" + secrets.token_urlsafe(9)
        await accounts_repo.set_password(
            conn, m.id, await passwords.hash_password(settings, password)
        )
        second_factor = totp.new_secret() if label in ("admin", "operator") else None
        if second_factor is not None:  # the policy: org admins and operators use TOTP
            encrypted = cipher.encrypt(second_factor, totp.secret_aad(m.id))
            await accounts_repo.store_totp_secret(conn, m.id, encrypted)
            await accounts_repo.enable_totp(conn, m.id, 0)
        if role:
            grant_id = uuid.uuid4()
            await grants_repo.insert(conn, grant_id, m.id, role, org.id, None)
            events.append(
                outbox.build(
                    ev.RoleGranted(
                        grant_id=grant_id,
                        member_id=m.id,
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
                ev.AccountActivated(
                    member_id=m.id, cell_id=m.cell.id, org_path=m.cell.path, occurred_at=now
                )
            )
        )
        entry: dict[str, Any] = {
            "username": m.card_number,
            "password": password,
            "member_id": str(m.id),
            "full_name": m.full_name,
        }
        if second_factor:
            entry["totp_secret"] = second_factor
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
