"""Use cases of the member's record (lý lịch đảng viên): read it, enter a reward or a
discipline decision.

Read: the member themselves, and whoever may read the member (the committees, secretaries and
admins over the member's cell). Enter: the body that decided must be the member's cell or an
org above it, of a level competent for the form (after the Party's rules on who rewards and who
disciplines: a cell may reprimand and warn; removal from a post, a grassroots committee and
above; expulsion, a district-level committee and above; the Party badge, the province), and the
caller must hold a committee, secretary or admin grant on it. Every entry is audited with ids
only; nothing of it goes into events (a record is personal data).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sotay_kit import audit
from sotay_kit.auth import Principal
from sotay_kit.clock import LOCAL_TZ
from sotay_kit.db import Connection
from sotay_kit.errors import Forbidden, NotFound, Unprocessable
from sotay_kit.ids import new_id

from ..members import repository as members_repository
from ..members.schemas import MembershipOut
from ..members.service import authorize_read, load
from ..orgs import repository as orgs_repository
from ..orgs.access import ORG_NOT_FOUND, in_reach
from . import repository
from .schemas import DistinctionIn, DistinctionOut, MemberRecord

RECORDING_ROLES = ("committee_member", "org_admin", "cell_secretary", "cell_deputy")
_ABOVE_CELL = ("grassroots_committee", "grassroots_cell", "district", "province")
_DISTRICT_UP = ("district", "province")
# The kinds of body competent for each form.
COMPETENT_KINDS: dict[str, tuple[str, ...]] = {
    "khien_trach": ("cell", *_ABOVE_CELL),
    "canh_cao": ("cell", *_ABOVE_CELL),
    "cach_chuc": _ABOVE_CELL,
    "khai_tru": _DISTRICT_UP,
    "giay_khen": _ABOVE_CELL,
    "khen_thuong_khac": _ABOVE_CELL,
    "bang_khen": _DISTRICT_UP,
    "huy_hieu": ("province",),
}
KIND_TITLES = {
    "cell": "chi bộ",
    "grassroots_cell": "chi bộ cơ sở",
    "grassroots_committee": "đảng ủy cơ sở",
    "district": "cấp huyện",
    "province": "cấp tỉnh",
}


async def read(conn: Connection, who: Principal, member_id: UUID) -> MemberRecord:
    member = await load(conn, member_id)
    authorize_read(who, member)
    history = await members_repository.memberships(conn, member_id)
    entries = [
        DistinctionOut.model_validate(dict(r)) for r in await repository.of_member(conn, member_id)
    ]
    return MemberRecord(
        member_id=member_id,
        full_name=member["full_name"],
        card_number=member["card_number"],
        admitted_on=member["admitted_on"],
        official_on=member["official_on"],
        membership=member["membership"],
        status=member["status"],
        history=[MembershipOut.model_validate(dict(r)) for r in history],
        rewards=[e for e in entries if e.kind == "reward"],
        discipline=[e for e in entries if e.kind == "discipline"],
    )


async def record_distinction(
    conn: Connection,
    who: Principal,
    member_id: UUID,
    body: DistinctionIn,
    *,
    now: datetime,
    source: str | None,
) -> MemberRecord:
    member = await load(conn, member_id)
    authorize_read(who, member)
    if who.member_id == member_id:
        raise Forbidden("Không tự ghi khen thưởng, kỷ luật cho chính mình")
    body_org = await orgs_repository.get(conn, body.org_id)
    if body_org is None or not in_reach(who, body_org["path"]):
        raise NotFound(ORG_NOT_FOUND)
    cell_path: str = member["org_path"]
    if not (cell_path == body_org["path"] or cell_path.startswith(body_org["path"] + ".")):
        raise Unprocessable("Cấp quyết định phải là chi bộ của đảng viên hoặc cấp ủy cấp trên")
    if body_org["kind"] not in COMPETENT_KINDS[body.form]:
        levels = ", ".join(KIND_TITLES[k] for k in COMPETENT_KINDS[body.form])
        raise Unprocessable(f"Hình thức này thuộc thẩm quyền của: {levels}")
    if not who.can(RECORDING_ROLES, body_org["path"]):
        raise Forbidden("Chỉ cấp ủy, bí thư hoặc cán bộ được giao của cấp quyết định được ghi")
    # The decision's date is a Vietnamese calendar day: from 00:00 to 07:00 there it is
    # already tomorrow in UTC terms.
    if body.decided_on > now.astimezone(LOCAL_TZ).date():
        raise Unprocessable("Ngày quyết định không thể ở tương lai")
    distinction_id = new_id()
    await repository.insert(
        conn,
        distinction_id=distinction_id,
        member_id=member_id,
        kind=body.kind,
        form=body.form,
        decision_number=body.decision_number,
        decided_on=body.decided_on,
        decided_by=body.org_id,
        reason=body.reason,
        recorded_by=who.member_id,
        now=now,
    )
    await audit.record(
        conn,
        f"members.{body.kind}_recorded",
        actor_id=who.member_id,
        target=str(member_id),
        source=source,
        details={
            "distinction_id": str(distinction_id),
            "org_id": str(body.org_id),
            "form": body.form,
        },
    )
    return await read(conn, who, member_id)
