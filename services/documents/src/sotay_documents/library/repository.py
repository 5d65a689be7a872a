"""Every SQL statement of the document library."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import asyncpg
from sotay_kit.db import Connection
from sotay_kit.projections.identity import ACTIVE_STATUSES

from ..access import Scope, visible_sql

Row = asyncpg.Record

# Columns a listing returns (never the search text, which can be large).
DOC_COLUMNS = (
    "id, number, kind, issuer, issued_on, title, summary, classification, tags, owner_org_id, "
    "owner_org_path, created_by, created_at, current_version, first_published_at"
)

_D_COLUMNS = ", ".join(f"d.{c.strip()}" for c in DOC_COLUMNS.split(","))


# -- org tree (identity projection) ---------------------------------------------------------


async def org(conn: Connection, org_id: uuid.UUID) -> Row | None:
    return await conn.fetchrow(
        "SELECT org_id, path, status FROM idp_orgs WHERE org_id = $1", org_id
    )


async def org_id_by_path(conn: Connection, path: str) -> uuid.UUID | None:
    value: uuid.UUID | None = await conn.fetchval(
        "SELECT org_id FROM idp_orgs WHERE path = $1", path
    )
    return value


async def audience_size(conn: Connection, paths: Sequence[str]) -> int:
    """Active members whose cell lies in one of the subtrees (each counted once)."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM idp_members m WHERE m.status = ANY($2::text[]) AND EXISTS ("
        "SELECT 1 FROM unnest($1::text[]) AS t(p) WHERE m.org_path = t.p "
        "OR m.org_path LIKE t.p || '.%')",
        list(paths),
        list(ACTIVE_STATUSES),
    )
    return count


# -- blobs, documents, versions -------------------------------------------------------------


async def insert_blob(
    conn: Connection, sha256: str, size: int, content_type: str, text: str | None = None
) -> None:
    await conn.execute(
        "INSERT INTO blobs (sha256, size, content_type, text) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (sha256) DO UPDATE SET text = EXCLUDED.text WHERE blobs.text IS NULL",
        sha256,
        size,
        content_type,
        text,
    )


async def blob_text(conn: Connection, sha256: str) -> str | None:
    """The file's extracted text; None when stored before texts were kept."""
    text: str | None = await conn.fetchval("SELECT text FROM blobs WHERE sha256 = $1", sha256)
    return text


async def set_blob_text(conn: Connection, sha256: str, text: str) -> None:
    await conn.execute(
        "UPDATE blobs SET text = $2 WHERE sha256 = $1 AND text IS NULL", sha256, text
    )


async def insert_document(
    conn: Connection,
    *,
    document_id: uuid.UUID,
    number: str | None,
    kind: str,
    issuer: str | None,
    issued_on: date | None,
    title: str,
    summary: str | None,
    classification: str,
    tags: list[str],
    owner_org_id: uuid.UUID,
    owner_org_path: str,
    created_by: uuid.UUID,
    search_title: str,
    search_head: str,
    search_text: str,
    number_folded: str,
) -> None:
    await conn.execute(
        "INSERT INTO documents (id, number, kind, issuer, issued_on, title, summary, "
        "classification, tags, owner_org_id, owner_org_path, created_by, search_title, "
        "search_text, number_folded, search_head) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        document_id,
        number,
        kind,
        issuer,
        issued_on,
        title,
        summary,
        classification,
        tags,
        owner_org_id,
        owner_org_path,
        created_by,
        search_title,
        search_text,
        number_folded,
        search_head,
    )


async def insert_version(
    conn: Connection,
    *,
    document_id: uuid.UUID,
    version: int,
    sha256: str,
    size: int,
    content_type: str,
    filename: str,
    extracted_chars: int,
    note: str | None,
    uploaded_by: uuid.UUID,
) -> None:
    await conn.execute(
        "INSERT INTO document_versions (document_id, version, sha256, size, content_type, "
        "filename, extracted_chars, note, uploaded_by) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        document_id,
        version,
        sha256,
        size,
        content_type,
        filename,
        extracted_chars,
        note,
        uploaded_by,
    )


async def lock_document(conn: Connection, document_id: uuid.UUID) -> Row | None:
    return await conn.fetchrow("SELECT * FROM documents WHERE id = $1 FOR UPDATE", document_id)


async def set_current_version(
    conn: Connection, document_id: uuid.UUID, version: int, search_text: str
) -> None:
    await conn.execute(
        "UPDATE documents SET current_version = $2, search_text = $3, updated_at = now() "
        "WHERE id = $1",
        document_id,
        version,
        search_text,
    )


async def visible_document(conn: Connection, document_id: uuid.UUID, scope: Scope) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {_D_COLUMNS} FROM documents d WHERE d.id = $1 AND {visible_sql('d', '$2', '$3')}",  # noqa: S608
        document_id,
        scope.ancestors,
        scope.publisher_roots,
    )


async def versions(conn: Connection, document_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM document_versions WHERE document_id = $1 ORDER BY version", document_id
    )


async def version(conn: Connection, document_id: uuid.UUID, number: int) -> Row | None:
    return await conn.fetchrow(
        "SELECT * FROM document_versions WHERE document_id = $1 AND version = $2",
        document_id,
        number,
    )


async def publications(conn: Connection, document_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM publications WHERE document_id = $1 ORDER BY published_at, id", document_id
    )


async def my_read(
    conn: Connection, document_id: uuid.UUID, version: int, member_id: uuid.UUID
) -> Row | None:
    return await conn.fetchrow(
        "SELECT * FROM reads WHERE document_id = $1 AND version = $2 AND member_id = $3",
        document_id,
        version,
        member_id,
    )


# -- listing and search ---------------------------------------------------------------------


_PER_ROW = """
    EXISTS (SELECT 1 FROM bookmarks b WHERE b.document_id = s.id AND b.member_id = $3)
        AS bookmarked,
    (SELECT r.progress_percent FROM reads r WHERE r.document_id = s.id
        AND r.version = s.current_version AND r.member_id = $3) AS my_progress_percent,
    EXISTS (SELECT 1 FROM reads r WHERE r.document_id = s.id AND r.member_id = $3
        AND r.studied_at IS NOT NULL) AS studied,
    (SELECT min(p.study_deadline) FROM publications p
        JOIN publication_targets t ON t.publication_id = p.id AND t.active
        WHERE p.document_id = s.id AND p.study_required AND t.org_path = ANY($1::text[]))
        AS study_deadline
"""

_TO_STUDY = """EXISTS (SELECT 1 FROM publications p
    JOIN publication_targets t ON t.publication_id = p.id AND t.active
    WHERE p.document_id = d.id AND p.study_required AND t.org_path = ANY($1::text[])
    AND NOT EXISTS (SELECT 1 FROM reads r WHERE r.document_id = d.id AND r.version = p.version
                    AND r.member_id = $3 AND r.studied_at IS NOT NULL))"""


# Search ranks a bounded candidate set, never every match (docs/performance.md, "Search at
# scale"): at most CANDIDATES + 1 title/metadata matches taken from the GIN index (all of them
# when the words are rare), and when there are more (common words) also the CANDIDATES most
# recently published of them among the RECENT newest documents.
CANDIDATES = 200
RECENT = 1_000


# What sotay_documents.search makes of a query: folded words of [0-9a-z] (search_words), as a
# tsquery (``&`` between them, ``:*`` after the last) or space-separated.
_TSQUERY = re.compile(r"[0-9a-z]+( & [0-9a-z]+)*(:\*)?")
_WORDS = re.compile(r"[0-9a-z]+( [0-9a-z]+)*")


def _literal(value: str, shape: re.Pattern[str]) -> str:
    """``value`` as an SQL string literal, only if it has the shape of folded search words
    (which hold no quote or backslash)."""
    if not shape.fullmatch(value):
        raise ValueError("not folded search words")
    return f"'{value}'"


def _filters(
    arg: Any,
    *,
    kind: str | None,
    issuer: str | None,
    year: int | None,
    tag: str | None,
    unread: bool,
    to_study: bool,
    bookmarked: bool,
) -> list[str]:
    where = [visible_sql("d", "$1", "$2")]
    if kind is not None:
        where.append(f"d.kind = {arg(kind)}")
    if issuer is not None:
        where.append(f"lower(d.issuer) = lower({arg(issuer)})")
    if year is not None:
        y = arg(year)
        where.append(
            f"d.issued_on >= make_date({y}, 1, 1) AND d.issued_on < make_date({y} + 1, 1, 1)"
        )
    if tag is not None:
        where.append(f"d.tags @> ARRAY[{arg(tag)}::text]")
    if unread:
        where.append(
            "NOT EXISTS (SELECT 1 FROM reads r WHERE r.document_id = d.id AND r.member_id = $3)"
        )
    if to_study:
        where.append(_TO_STUDY)
    if bookmarked:
        where.append(
            "EXISTS (SELECT 1 FROM bookmarks b WHERE b.document_id = d.id AND b.member_id = $3)"
        )
    return where


async def search(
    conn: Connection,
    scope: Scope,
    member_id: uuid.UUID,
    *,
    tsquery: str | None,
    number_query: str | None,
    part: str = "head",
    kind: str | None,
    issuer: str | None,
    year: int | None,
    tag: str | None,
    unread: bool,
    to_study: bool,
    bookmarked: bool,
    after: tuple[Any, uuid.UUID] | None,
    limit: int,
) -> list[Row]:
    """One page of the library, newest first (``tsquery`` None), or of a search's matches.

    A search lists its ``part="head"`` first: documents whose title, number or metadata
    (``rank_tsv``) hold every word (or, with ``number_query``, whose number is similar), a
    bounded candidate set of them ranked by ``ts_rank_cd`` (+ number similarity); then its
    ``part="body"``: the documents matching in their text alone, which rank 0 (ordered by id,
    as ties are), read only once a page goes past the head matches, and only when those are
    few enough to be ranked all. Keyset ``after`` = (sort key, id)."""
    args: list[Any] = [scope.ancestors, scope.publisher_roots, member_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where = _filters(
        arg,
        kind=kind,
        issuer=issuer,
        year=year,
        tag=tag,
        unread=unread,
        to_study=to_study,
        bookmarked=bookmarked,
    )
    if tsquery is None:
        sort = "coalesce(d.first_published_at, d.created_at)"
        if after is not None:
            k, i = arg(after[0]), arg(after[1])
            where.append(f"({sort}, d.id) < ({k}::timestamptz, {i}::uuid)")
        inner = (
            f"SELECT {_D_COLUMNS}, NULL::float8 AS rank, {sort} AS sort_key FROM documents d "  # noqa: S608
            f"WHERE {' AND '.join(where)} ORDER BY sort_key DESC, d.id DESC LIMIT {arg(limit)}"
        )
        ctes = ""
    else:
        # The query's words are literals, not parameters: asyncpg prepares each statement and
        # Postgres would soon plan it once for any words (a generic plan), reading every match
        # of a common word from the GIN index, where the words' own frequencies choose between
        # that (rare words) and the bounded scan in publication order (common ones).
        q = f"to_tsquery('simple', {_literal(tsquery, _TSQUERY)})"
        rank = f"ts_rank_cd(d.rank_tsv, {q}, 1)::float8"
        head = f"d.rank_tsv @@ {q}"
        # The same condition as functions, which no index serves and the planner estimates
        # as common: read in publication order, stopping at the cap.
        head_in_order = f"ts_match_vq(d.rank_tsv, {q})"
        if number_query is not None:
            n = _literal(number_query, _WORDS)
            rank = f"({rank} + similarity(d.number_folded, {n})::float8)"
            head = f"({head} OR d.number_folded % {n})"
            head_in_order = f"({head_in_order} OR similarity_op(d.number_folded, {n}))"
        filters = " AND ".join(where)
        cap = arg(CANDIDATES)
        # At most CANDIDATES + 1 head matches, from the GIN indexes: all of them when the
        # words are rare (then every match is ranked, as ever).
        columns = f"{_D_COLUMNS}, d.audience_paths, d.rank_tsv, d.number_folded"
        probe = f"SELECT {columns} FROM documents d WHERE {head} AND {filters} LIMIT {cap} + 1"  # noqa: S608
        if part == "head":
            # Common words (the probe is full): the candidates are the probe's matches and the
            # head matches among the RECENT most recently published documents (read in the
            # order of documents_recent; this scan runs only then: a one-time filter on the
            # probe's count). Either way a bounded set, the same for every page of one search,
            # ranked outside, so ts_rank_cd runs on the candidates only.
            ctes = (
                f"WITH probe AS MATERIALIZED ({probe}), "  # noqa: S608
                f"recent AS MATERIALIZED (SELECT * FROM (SELECT {columns} FROM documents d "
                f"WHERE (SELECT count(*) FROM probe) > {cap} "
                "ORDER BY coalesce(d.first_published_at, d.created_at) DESC, d.id "
                f"LIMIT {arg(RECENT)}) d WHERE {head_in_order} AND {filters} LIMIT {cap}), "
                "candidates AS (SELECT * FROM probe UNION ALL "
                "SELECT * FROM recent WHERE recent.id NOT IN (SELECT id FROM probe)) "
            )
            keyset = ""
            if after is not None:
                k, i = arg(after[0]), arg(after[1])
                keyset = f"WHERE (c.rank, c.id) < ({k}::float8, {i}::uuid) "
            inner = (
                f"SELECT c.*, c.rank AS sort_key FROM (SELECT {_D_COLUMNS}, {rank} AS rank "  # noqa: S608
                f"FROM candidates d) c {keyset}ORDER BY c.rank DESC, c.id DESC LIMIT {arg(limit)}"
            )
        else:
            # Matches in the text alone rank after every head match, so they are listed only
            # when the head matches are few enough to be ranked all (the probe): a search with
            # common words lists its CANDIDATES best head matches and ends there.
            ctes = ""
            keyset = f" AND d.id < {arg(after[1])}::uuid" if after is not None else ""
            inner = (
                f"SELECT {_D_COLUMNS}, 0::float8 AS rank, 0::float8 AS sort_key "  # noqa: S608
                f"FROM documents d WHERE (SELECT count(*) FROM ({probe}) p) <= {cap} "
                f"AND d.search_tsv @@ {q} AND NOT {head} AND {filters}"
                f"{keyset} ORDER BY d.id DESC LIMIT {arg(limit)}"
            )
    # The page is chosen first (inner query, LIMIT inside so it is not flattened); the
    # per-member columns are computed for that page only.
    sql = (
        f"{ctes}SELECT s.*, {_PER_ROW} FROM ({inner}) s "  # noqa: S608 - fixed fragments, values are parameters
        "ORDER BY s.sort_key DESC, s.id DESC"
    )
    return await conn.fetch(sql, *args)


async def to_study(
    conn: Connection,
    scope: Scope,
    member_id: uuid.UUID,
    *,
    after: tuple[datetime, str, uuid.UUID, int] | None,
    limit: int,
) -> list[Row]:
    """Active study-required publications addressed to me whose version I have not studied,
    with my progress: nearest deadline first (none last), then title; keyset ``after`` the
    key (deadline or infinity, title, document id, version) of the previous page's last row."""
    return await conn.fetch(
        "SELECT * FROM ("
        "SELECT DISTINCT ON (p.document_id, p.version) d.id AS document_id, d.title, d.number, "
        "d.kind, p.version, p.id AS publication_id, p.study_deadline, p.published_at, "
        "coalesce(p.study_deadline, 'infinity'::timestamptz) AS deadline_key, "
        "r.progress_percent, r.studied_at, r.first_opened_at "
        "FROM publications p JOIN publication_targets t ON t.publication_id = p.id AND t.active "
        "JOIN documents d ON d.id = p.document_id "
        "LEFT JOIN reads r ON r.document_id = p.document_id AND r.version = p.version "
        "AND r.member_id = $2 "
        "WHERE p.study_required AND t.org_path = ANY($1::text[]) AND r.studied_at IS NULL "
        "ORDER BY p.document_id, p.version, p.study_deadline NULLS LAST) s "
        "WHERE $3::timestamptz IS NULL "
        "OR (s.deadline_key, s.title, s.document_id, s.version) "
        "> ($3, $4::text, $5::uuid, $6::int) "
        "ORDER BY s.deadline_key, s.title, s.document_id, s.version LIMIT $7",
        scope.ancestors,
        member_id,
        *(after or (None, None, None, None)),
        limit,
    )


# -- bookmarks ------------------------------------------------------------------------------


async def blob_exists(conn: Connection, sha256: str) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = $1)", sha256
    )
    return found


async def is_bookmarked(conn: Connection, member_id: uuid.UUID, document_id: uuid.UUID) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM bookmarks WHERE member_id = $1 AND document_id = $2)",
        member_id,
        document_id,
    )
    return found


async def add_bookmark(conn: Connection, member_id: uuid.UUID, document_id: uuid.UUID) -> None:
    await conn.execute(
        "INSERT INTO bookmarks (member_id, document_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        member_id,
        document_id,
    )


async def remove_bookmark(conn: Connection, member_id: uuid.UUID, document_id: uuid.UUID) -> None:
    await conn.execute(
        "DELETE FROM bookmarks WHERE member_id = $1 AND document_id = $2", member_id, document_id
    )


# -- publications ---------------------------------------------------------------------------


async def insert_publication(
    conn: Connection,
    *,
    publication_id: uuid.UUID,
    document_id: uuid.UUID,
    version: int,
    org_ids: list[uuid.UUID],
    org_paths: list[str],
    study_required: bool,
    study_deadline: datetime | None,
    audience_size: int,
    published_by: uuid.UUID,
    publisher_org_id: uuid.UUID,
    publisher_org_path: str,
    published_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO publications (id, document_id, version, org_ids, org_paths, study_required, "
        "study_deadline, audience_size, published_by, publisher_org_id, publisher_org_path, "
        "published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        publication_id,
        document_id,
        version,
        org_ids,
        org_paths,
        study_required,
        study_deadline,
        audience_size,
        published_by,
        publisher_org_id,
        publisher_org_path,
        published_at,
    )
    await conn.execute(
        "INSERT INTO publication_targets (publication_id, document_id, org_id, org_path) "
        "SELECT $1, $2, * FROM unnest($3::uuid[], $4::text[])",
        publication_id,
        document_id,
        org_ids,
        org_paths,
    )


async def refresh_audience(conn: Connection, document_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE documents SET audience_paths = ARRAY(SELECT DISTINCT org_path "
        "FROM publication_targets WHERE document_id = $1 AND active ORDER BY 1), "
        "first_published_at = coalesce(first_published_at, (SELECT min(published_at) "
        "FROM publications WHERE document_id = $1)), updated_at = now() WHERE id = $1",
        document_id,
    )


async def retract(
    conn: Connection,
    publication_ids: Sequence[uuid.UUID],
    *,
    retracted_by: uuid.UUID,
    reason: str,
    at: datetime,
) -> None:
    await conn.execute(
        "UPDATE publications SET retracted_at = $2, retracted_by = $3, retraction_reason = $4 "
        "WHERE id = ANY($1::uuid[]) AND retracted_at IS NULL",
        list(publication_ids),
        at,
        retracted_by,
        reason,
    )
    await conn.execute(
        "UPDATE publication_targets SET active = false WHERE publication_id = ANY($1::uuid[])",
        list(publication_ids),
    )


async def same_number(
    conn: Connection, scope: Scope, number_folded: str, *, limit: int = 20
) -> list[Row]:
    """Documents the caller can see whose folded number is ``number_folded`` (oldest first)."""
    return await conn.fetch(
        "SELECT d.id, d.number, d.title, d.issuer, d.issued_on, d.kind FROM documents d "  # noqa: S608 - fixed SQL fragments
        f"WHERE d.number_folded = $1 AND {visible_sql('d', '$2', '$3')} "
        "ORDER BY d.created_at, d.id LIMIT $4",
        number_folded,
        scope.ancestors,
        scope.publisher_roots,
        limit,
    )
