"""Use cases of the document library: upload, versions, listing and search, download,
bookmarks, publishing down the tree and retraction."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sotay_contracts.events.documents import (
    Classification as EventClassification,
)
from sotay_contracts.events.documents import (
    DocumentDescribed,
    DocumentPublished,
    DocumentRetracted,
    RetractionReason,
)
from sotay_kit import audit, outbox
from sotay_kit.auth import Principal
from sotay_kit.db import Connection, Pool
from sotay_kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from sotay_kit.ids import new_id
from sotay_kit.pagination import Page, decode_keyset, encode_cursor, key_number, key_time, key_uuid
from sotay_kit.text import search_words

from .. import access, files, search
from ..access import PUBLISHER_ROLES, Scope
from ..problems import BrokenFile, DuplicateDocument
from ..settings import DocumentsSettings
from ..storage import Storage
from ..uploads import ReceivedFile
from . import reader
from . import repository as repo
from .schemas import (
    DocumentMetadata,
    DocumentOut,
    DocumentSummary,
    DocumentTextOut,
    DownloadOut,
    Kind,
    MyReadOut,
    PublicationOut,
    PublishIn,
    RetractIn,
    TextBlockOut,
    VersionMetadata,
    VersionOut,
)

log = logging.getLogger("sotay.documents")

DOCUMENT_NOT_FOUND = "Không tìm thấy văn bản"
ORG_NOT_FOUND = "Không tìm thấy tổ chức trong phạm vi của bạn"


def _not_found() -> NotFound:
    return NotFound(DOCUMENT_NOT_FOUND)


async def visible_or_404(conn: Connection, who: Principal, document_id: uuid.UUID) -> Any:
    row = await repo.visible_document(conn, document_id, Scope.of(who))
    if row is None:
        raise _not_found()
    return row


def _search_fields(meta: dict[str, Any], text: str) -> tuple[str, str, str, str]:
    """Folded title (+ number), metadata, everything, and the number alone."""
    title, number = meta["title"], meta.get("number")
    head = search.search_text(meta.get("issuer"), meta.get("summary"), " ".join(meta["tags"]))
    return (
        search.search_text(title, number),
        head,
        " ".join(filter(None, (search.search_text(title, number), head, search.search_text(text)))),
        " ".join(search_words(number or "")),
    )


# -- upload ---------------------------------------------------------------------------------


async def _store(pool: Pool, storage: Storage, received: ReceivedFile) -> files.FileInfo:
    """Check the file by its content, extract its text, and put it in the bucket unless the
    same content is already there. Nothing is stored for a file that fails a check."""
    info = await asyncio.to_thread(files.inspect, received.file, received.filename)
    async with pool.acquire() as conn:
        known = await repo.blob_exists(conn, received.sha256)
    if not known or not await storage.exists(received.sha256):
        await storage.put(received.sha256, received.file, received.size, info.content_type)
    return info


async def _owner_org(pool: Pool, who: Principal, org_id: uuid.UUID | None) -> tuple[uuid.UUID, str]:
    async with pool.acquire() as conn:
        if org_id is not None:
            row = await repo.org(conn, org_id)
            if row is None or not who.can(PUBLISHER_ROLES, row["path"]):
                raise NotFound(ORG_NOT_FOUND)
            return row["org_id"], row["path"]
        roots = Scope.of(who).publisher_roots
        if len(roots) != 1:
            raise Unprocessable(
                "Bạn có nhiều phạm vi phát hành: cần chọn tổ chức sở hữu văn bản (org_id)"
            )
        found = await repo.org_id_by_path(conn, roots[0])
        if found is None:
            raise Conflict("Dữ liệu tổ chức chưa được đồng bộ, vui lòng thử lại sau")
        return found, roots[0]


def authorize_upload(who: Principal) -> None:
    """Checked before the file is received."""
    if not Scope.of(who).is_publisher:
        raise Forbidden("Chỉ cấp ủy, bí thư chi bộ hoặc quản trị tổ chức được tải văn bản lên")


async def upload_document(
    pool: Pool,
    storage: Storage,
    who: Principal,
    meta: DocumentMetadata,
    received: ReceivedFile,
    *,
    source: str | None = None,
) -> DocumentOut:
    """Store a received file as a new document (after :func:`authorize_upload`)."""
    owner_id, owner_path = await _owner_org(pool, who, meta.org_id)
    if not meta.confirm_duplicate:
        await _refuse_duplicate(pool, who, meta)
    info = await _store(pool, storage, received)
    document_id = new_id()
    title_s, head_s, text_s, number_s = _search_fields(meta.model_dump(), info.text)
    async with pool.acquire() as conn, conn.transaction():
        await repo.insert_document(
            conn,
            document_id=document_id,
            number=meta.number,
            kind=meta.kind.value,
            issuer=meta.issuer,
            issued_on=meta.issued_on,
            title=meta.title,
            summary=meta.summary,
            classification=meta.classification,
            tags=meta.tags,
            owner_org_id=owner_id,
            owner_org_path=owner_path,
            created_by=who.member_id,
            search_title=title_s,
            search_head=head_s,
            search_text=text_s,
            number_folded=number_s,
        )
        await _add_version(
            conn, who, document_id, 1, received, info, note=None, source=source, owner=owner_path
        )
        log.info(
            "document uploaded",
            extra={"document_id": str(document_id), "sha256": received.sha256},
        )
        return await _document_out(conn, who, document_id)


def _same_issuer(a: str | None, b: str | None) -> bool:
    return search.search_text(a or "") == search.search_text(b or "")


async def _refuse_duplicate(pool: Pool, who: Principal, meta: DocumentMetadata) -> None:
    """A document the caller can already see with the same number and issuer (compared without
    case, diacritics or punctuation) is answered 409 with that document, instead of a second
    copy members would see twice in search; ``confirm_duplicate`` creates it anyway."""
    folded = " ".join(search_words(meta.number or ""))
    if not folded:
        return
    async with pool.acquire() as conn:
        rows = await repo.same_number(conn, Scope.of(who), folded)
    same = [r for r in rows if _same_issuer(r["issuer"], meta.issuer)]
    if not same:
        return
    existing = [
        {
            "id": str(r["id"]),
            "number": r["number"],
            "title": r["title"],
            "issuer": r["issuer"],
            "issued_on": r["issued_on"].isoformat() if r["issued_on"] else None,
            "kind": r["kind"],
            "href": f"/api/v1/documents/{r['id']}",
        }
        for r in same
    ]
    first = same[0]
    raise DuplicateDocument(
        f"Văn bản {first['number']} của {first['issuer'] or 'cùng cơ quan ban hành'} đã có "
        f"trong thư viện: “{first['title']}”. Mở văn bản đó, hoặc gửi lại với "
        "confirm_duplicate=true để vẫn tạo văn bản mới.",
        extensions={"existing": existing},
    )


async def _add_version(
    conn: Connection,
    who: Principal,
    document_id: uuid.UUID,
    number: int,
    received: ReceivedFile,
    info: files.FileInfo,
    *,
    note: str | None,
    source: str | None,
    owner: str | None = None,
) -> None:
    """The received file as version ``number`` of the document (its content stored once per
    SHA-256), audited."""
    await repo.insert_blob(conn, received.sha256, received.size, info.content_type, info.text)
    await repo.insert_version(
        conn,
        document_id=document_id,
        version=number,
        sha256=received.sha256,
        size=received.size,
        content_type=info.content_type,
        filename=received.filename,
        extracted_chars=len(info.text),
        note=note,
        uploaded_by=who.member_id,
    )
    details: dict[str, Any] = {"version": number, "sha256": received.sha256}
    if owner is not None:
        details["org_path"] = owner
    await audit.record(
        conn,
        "documents.uploaded",
        actor_id=who.member_id,
        target=str(document_id),
        source=source,
        details=details,
    )


async def authorize_new_version(pool: Pool, who: Principal, document_id: uuid.UUID) -> None:
    """Checked before the file is received."""
    async with pool.acquire() as conn:
        row = await visible_or_404(conn, who, document_id)
    if not who.can(PUBLISHER_ROLES, row["owner_org_path"]):
        raise Forbidden("Chỉ tổ chức sở hữu văn bản được thêm phiên bản mới")


async def upload_version(
    pool: Pool,
    storage: Storage,
    who: Principal,
    document_id: uuid.UUID,
    meta: VersionMetadata,
    received: ReceivedFile,
    *,
    source: str | None = None,
) -> DocumentOut:
    """Store a received file as the document's next version (after
    :func:`authorize_new_version`)."""
    info = await _store(pool, storage, received)
    async with pool.acquire() as conn, conn.transaction():
        doc = await repo.lock_document(conn, document_id)
        assert doc is not None
        number = doc["current_version"] + 1
        _, _, text_s, _ = _search_fields(dict(doc), info.text)
        await _add_version(
            conn, who, document_id, number, received, info, note=meta.note, source=source
        )
        await repo.set_current_version(conn, document_id, number, text_s)
        return await _document_out(conn, who, document_id)


# -- reading --------------------------------------------------------------------------------


def _summary_fields(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "number": row["number"],
        "kind": Kind(row["kind"]),
        "issuer": row["issuer"],
        "issued_on": row["issued_on"],
        "summary": row["summary"],
        "classification": row["classification"],
        "tags": list(row["tags"]),
        "current_version": row["current_version"],
        "published_at": row["first_published_at"],
    }


def _publication_out(p: Any) -> PublicationOut:
    return PublicationOut.model_validate(dict(p))


async def _document_out(conn: Connection, who: Principal, document_id: uuid.UUID) -> DocumentOut:
    scope = Scope.of(who)
    row = await repo.visible_document(conn, document_id, scope)
    if row is None:
        raise _not_found()
    pubs = await repo.publications(conn, document_id)
    if not scope.is_publisher:
        # A member sees the publications that address them, not the whole distribution list.
        mine = set(scope.ancestors)
        pubs = [p for p in pubs if p["retracted_at"] is None and mine.intersection(p["org_paths"])]
    deadlines = [
        p["study_deadline"]
        for p in pubs
        if p["retracted_at"] is None
        and p["study_deadline"]
        and set(scope.ancestors) & set(p["org_paths"])
    ]
    read = await repo.my_read(conn, document_id, row["current_version"], who.member_id)
    bookmarked = await repo.is_bookmarked(conn, who.member_id, document_id)
    return DocumentOut(
        **_summary_fields(row),
        owner_org_id=row["owner_org_id"],
        created_at=row["created_at"],
        bookmarked=bookmarked,
        my_progress_percent=read["progress_percent"] if read else None,
        studied=bool(read and read["studied_at"]),
        study_deadline=min(deadlines) if deadlines else None,
        versions=[
            VersionOut.model_validate(dict(v)) for v in await repo.versions(conn, document_id)
        ],
        publications=[_publication_out(p) for p in pubs],
        my_read=MyReadOut.model_validate(dict(read)) if read else None,
    )


async def get_document(conn: Connection, who: Principal, document_id: uuid.UUID) -> DocumentOut:
    return await _document_out(conn, who, document_id)


def _decode_after(cursor: str | None, ranked: bool) -> tuple[tuple[Any, uuid.UUID] | None, bool]:
    """The keyset position and whether the listing is in fuzzy (trigram) mode."""

    def parse(raw: Any) -> tuple[tuple[Any, uuid.UUID], bool]:
        key, ident, fuzzy = raw
        if ranked:
            return (key_number(key), key_uuid(ident)), bool(fuzzy)
        return (key_time(key), key_uuid(ident)), False

    return decode_keyset(cursor, parse) or (None, False)


async def list_documents(
    conn: Connection,
    who: Principal,
    *,
    q: str | None,
    kind: Kind | None,
    issuer: str | None,
    year: int | None,
    tag: str | None,
    unread: bool,
    to_study: bool,
    bookmarked: bool,
    limit: int,
    cursor: str | None,
) -> Page[DocumentSummary]:
    tsq = search.tsquery(q)
    after, fuzzy = _decode_after(cursor, ranked=tsq is not None)
    number_q = search.number_query(q) if tsq else None

    async def page_part(
        fuzzy: bool, part: str, after: tuple[Any, uuid.UUID] | None, limit: int
    ) -> list[Any]:
        return await repo.search(
            conn,
            Scope.of(who),
            who.member_id,
            tsquery=tsq,
            number_query=number_q if fuzzy else None,
            part=part,
            kind=kind.value if kind else None,
            issuer=issuer,
            year=year,
            tag=tag.strip().lower() if tag else None,
            unread=unread,
            to_study=to_study,
            bookmarked=bookmarked,
            after=after,
            limit=limit,
        )

    async def run(fuzzy: bool) -> list[Any]:
        """A page of ``limit + 1`` rows: the ranked title/metadata matches, then (a search
        only, never fuzzy) the matches in the text alone, which rank 0."""
        if tsq is None or after is None or after[0] > 0:
            rows = await page_part(fuzzy, "head", after, limit + 1)
        else:
            rows = []
        if tsq is not None and not fuzzy and len(rows) <= limit:
            body_after = after if after is not None and after[0] <= 0 else None
            rows += await page_part(fuzzy, "body", body_after, limit + 1 - len(rows))
        return rows

    rows = await run(fuzzy)
    if not rows and after is None and number_q is not None and not fuzzy:
        # Nothing word for word: a mistyped document number ("21-NQ/T.W") is matched by
        # trigram similarity instead. Only then, as trigram matching costs more.
        fuzzy = True
        rows = await run(fuzzy)
    items = [
        DocumentSummary(
            **_summary_fields(r),
            bookmarked=r["bookmarked"],
            my_progress_percent=r["my_progress_percent"],
            studied=r["studied"],
            study_deadline=r["study_deadline"],
            rank=r["rank"],
        )
        for r in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        key = last["sort_key"]
        next_cursor = encode_cursor(
            [key.isoformat() if isinstance(key, datetime) else key, str(last["id"]), fuzzy]
        )
    return Page(items=items, next_cursor=next_cursor)


# -- reader view ----------------------------------------------------------------------------


async def _extracted_text(conn: Connection, storage: Storage, version: Any) -> str:
    """The version's text, extracted from the stored file once if it predates kept texts."""
    text = await repo.blob_text(conn, version["sha256"])
    if text is not None:
        return text
    data = await storage.read(version["sha256"])

    def extract() -> str:
        import io

        try:
            return files.extract_text(io.BytesIO(data), version["content_type"])
        except BrokenFile:  # accepted once, so not expected; then there is no text
            return ""

    text = await asyncio.to_thread(extract)
    await repo.set_blob_text(conn, version["sha256"], text)
    return text


async def read_text(
    conn: Connection,
    who: Principal,
    storage: Storage,
    document_id: uuid.UUID,
    version: int | None,
    *,
    source: str,
) -> DocumentTextOut:
    """Visible exactly to those who may open the document (and audited like its download)."""
    doc, v = await _opened_version(conn, who, document_id, version, "documents.text_read", source)
    text = await _extracted_text(conn, storage, v)
    return text_out(doc, v, text)


def text_out(doc: Any, v: Any, text: str) -> DocumentTextOut:
    """The reader view of a version's extracted text, headings carrying their section anchors."""
    cut = reader.blocks(text, v["content_type"])
    return DocumentTextOut(
        document_id=doc["id"],
        version=v["version"],
        title=doc["title"],
        number=doc["number"],
        content_type=v["content_type"],
        blocks=[
            TextBlockOut(kind=b.kind, text=b.text, anchor=a)
            for b, a in zip(cut, reader.anchors(cut), strict=True)
        ],
        characters=sum(len(b.text) for b in cut),
    )


async def version_text(conn: Connection, storage: Storage, version: Any) -> str:
    """A version's extracted text (for the reader view of a consultation's draft)."""
    return await _extracted_text(conn, storage, version)


# -- download -------------------------------------------------------------------------------


async def _opened_version(
    conn: Connection,
    who: Principal,
    document_id: uuid.UUID,
    version: int | None,
    action: str,
    source: str,
) -> tuple[Any, Any]:
    """The document and the version (default: the current one) the caller opens; opening an
    internal document is audited as ``action``."""
    doc = await visible_or_404(conn, who, document_id)
    number = version or doc["current_version"]
    v = await repo.version(conn, document_id, number)
    if v is None:
        raise NotFound("Không tìm thấy phiên bản này của văn bản")
    if doc["classification"] != "public":
        await audit.record(
            conn,
            action,
            actor_id=who.member_id,
            target=str(document_id),
            source=source,
            details={"version": number, "classification": doc["classification"]},
        )
    return doc, v


async def download(
    conn: Connection,
    who: Principal,
    storage: Storage,
    settings: DocumentsSettings,
    document_id: uuid.UUID,
    version: int | None,
    *,
    source: str,
    now: datetime,
) -> DownloadOut:
    # The audit row is committed with the answer: a URL is never handed out without it.
    _, v = await _opened_version(conn, who, document_id, version, "documents.downloaded", source)
    number = v["version"]
    ttl = settings.download_url_ttl
    expires_at = now + timedelta(seconds=ttl)
    url = storage.presign(
        v["sha256"], ttl=ttl, filename=v["filename"], content_type=v["content_type"]
    )
    return DownloadOut(
        url=url,
        expires_at=expires_at,
        version=number,
        filename=v["filename"],
        content_type=v["content_type"],
        size=v["size"],
        sha256=v["sha256"],
    )


# -- bookmarks ------------------------------------------------------------------------------


async def bookmark(conn: Connection, who: Principal, document_id: uuid.UUID, on: bool) -> None:
    await visible_or_404(conn, who, document_id)
    if on:
        await repo.add_bookmark(conn, who.member_id, document_id)
    else:
        await repo.remove_bookmark(conn, who.member_id, document_id)


# -- publishing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Addressees:
    org_ids: list[uuid.UUID]  # as asked, without repeats
    paths: list[str]
    # The committee it is published by: the narrowest of the caller's publishing roots
    # covering every addressee.
    publisher_path: str


async def addressees(
    conn: Connection, who: Principal, org_ids: list[uuid.UUID], *, separately: str
) -> Addressees:
    """The orgs a document or a news item is addressed to: each within the caller's publishing
    scope (else 404) and not closed, all under one of the caller's publishing roots (else 422,
    ``separately`` saying how to go on)."""
    org_ids = list(dict.fromkeys(org_ids))
    paths: list[str] = []
    for org_id in org_ids:
        row = await repo.org(conn, org_id)
        if row is None or not who.can(PUBLISHER_ROLES, row["path"]):
            raise NotFound(ORG_NOT_FOUND, extensions={"org_id": str(org_id)})
        if row["status"] == "closed":
            raise Unprocessable("Tổ chức nhận đã giải thể", extensions={"org_id": str(org_id)})
        paths.append(row["path"])
    publisher_path = access.publisher_path(who, paths)
    if publisher_path is None:
        raise Unprocessable(
            f"Các tổ chức nhận phải cùng thuộc một phạm vi phát hành của bạn; {separately}"
        )
    return Addressees(org_ids, paths, publisher_path)


def _check_study(body: PublishIn, now: datetime) -> None:
    if body.study_deadline is None:
        return
    if not body.study_required:
        raise Unprocessable("Chỉ đặt hạn học tập khi yêu cầu học tập (study_required)")
    if body.study_deadline <= now:
        raise Unprocessable("Hạn học tập phải ở tương lai")


def _described(doc: Any, published: DocumentPublished) -> DocumentDescribed:
    """What names the document a publication is of (title, number, issuer)."""
    return DocumentDescribed(
        document_id=published.document_id,
        version=published.version,
        number=doc["number"],
        title=doc["title"],
        kind=published.kind,
        classification=published.classification,
        issuer=doc["issuer"],
        issued_on=doc["issued_on"],
        owner_org_id=doc["owner_org_id"],
        occurred_at=published.occurred_at,
    )


async def _version_to_publish(
    conn: Connection, who: Principal, document_id: uuid.UUID, body: PublishIn
) -> tuple[Any, int]:
    """The document and the version number the caller may publish (404 when they cannot see
    it, 403 when they see it but publish nothing)."""
    scope = Scope.of(who)
    if not scope.is_publisher:
        raise (
            _not_found()
            if await repo.visible_document(conn, document_id, scope) is None
            else Forbidden("Bạn không có quyền phát hành văn bản")
        )
    doc = await visible_or_404(conn, who, document_id)
    number = body.version or doc["current_version"]
    if await repo.version(conn, document_id, number) is None:
        raise NotFound("Không tìm thấy phiên bản này của văn bản")
    return doc, number


async def publish(
    conn: Connection, who: Principal, document_id: uuid.UUID, body: PublishIn, *, now: datetime
) -> PublicationOut:
    doc, number = await _version_to_publish(conn, who, document_id, body)
    _check_study(body, now)
    to = await addressees(conn, who, body.org_ids, separately="hãy phát hành riêng")
    publisher_id = await repo.org_id_by_path(conn, to.publisher_path)
    if publisher_id is None:
        raise Conflict("Dữ liệu tổ chức chưa được đồng bộ, vui lòng thử lại sau")
    size = await repo.audience_size(conn, to.paths)
    publication_id = new_id()
    await repo.insert_publication(
        conn,
        publication_id=publication_id,
        document_id=document_id,
        version=number,
        org_ids=to.org_ids,
        org_paths=to.paths,
        study_required=body.study_required,
        study_deadline=body.study_deadline,
        audience_size=size,
        published_by=who.member_id,
        publisher_org_id=publisher_id,
        publisher_org_path=to.publisher_path,
        published_at=now,
    )
    await repo.refresh_audience(conn, document_id)
    kind = Kind(doc["kind"]).event_kind()
    classification = EventClassification(doc["classification"])
    published = DocumentPublished(
        document_id=document_id,
        version=number,
        publication_id=publication_id,
        audience_org_ids=to.org_ids,
        audience_org_paths=to.paths,
        audience_size=size,
        study_required=body.study_required,
        study_deadline=body.study_deadline,
        classification=classification,
        kind=kind,
        published_by=who.member_id,
        publisher_org_id=publisher_id,
        occurred_at=now,
    )
    # The display facts first, on the internal directory subject: the publication is a PUBLIC
    # subject and names no document (DESIGN.md §6). Same aggregate, same stream, so a consumer
    # of DOCUMENTS gets them before the publication.
    await outbox.enqueue(conn, _described(doc, published), published)
    log.info(
        "document published",
        extra={"document_id": str(document_id), "publication_id": str(publication_id)},
    )
    return PublicationOut(
        id=publication_id,
        version=number,
        org_ids=to.org_ids,
        org_paths=to.paths,
        study_required=body.study_required,
        study_deadline=body.study_deadline,
        audience_size=size,
        published_at=now,
        retracted_at=None,
    )


async def retract(
    conn: Connection,
    who: Principal,
    document_id: uuid.UUID,
    publication_id: uuid.UUID | None,
    body: RetractIn,
    *,
    now: datetime,
) -> None:
    """Retract one publication, or (``publication_id`` None) every active one — each must have
    been published by a committee inside the caller's publishing subtrees."""
    await visible_or_404(conn, who, document_id)
    await repo.lock_document(conn, document_id)
    pubs = [
        p
        for p in await repo.publications(conn, document_id)
        if publication_id is None or p["id"] == publication_id
    ]
    if publication_id is not None and not pubs:
        raise NotFound("Không tìm thấy đợt phát hành")
    mine = [p for p in pubs if who.can(PUBLISHER_ROLES, p["publisher_org_path"])]
    if len(mine) < len(pubs):
        if publication_id is not None:
            raise NotFound("Không tìm thấy đợt phát hành")
        active_others = [p for p in pubs if p not in mine and p["retracted_at"] is None]
        if active_others:
            raise Forbidden("Có đợt phát hành của cấp trên, bạn không thể thu hồi tất cả")
    active = [p["id"] for p in mine if p["retracted_at"] is None]
    if not active:
        raise Conflict("Văn bản không còn đợt phát hành nào đang hiệu lực để thu hồi")
    await repo.retract(
        conn, active, retracted_by=who.member_id, reason=body.reason_code.value, at=now
    )
    await repo.refresh_audience(conn, document_id)
    await outbox.enqueue(
        conn,
        DocumentRetracted(
            document_id=document_id,
            publication_id=publication_id,
            reason_code=RetractionReason(body.reason_code),
            retracted_by=who.member_id,
            occurred_at=now,
        ),
    )
