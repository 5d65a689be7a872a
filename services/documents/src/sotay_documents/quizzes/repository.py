"""Every SQL statement of study quizzes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from sotay_kit.db import Connection

Row = asyncpg.Record


async def quiz(
    conn: Connection, document_id: uuid.UUID, version: int, *, lock: str = ""
) -> Row | None:
    """The quiz of a version; ``lock`` "FOR SHARE" (an attempt) or "FOR UPDATE" (a replacement)
    orders an attempt and a replacement of the same quiz."""
    assert lock in ("", "FOR SHARE", "FOR UPDATE")
    return await conn.fetchrow(
        "SELECT document_id, version, questions, pass_percent, authored_at, "  # noqa: S608 - fixed lock clause
        "EXISTS (SELECT FROM quiz_results r WHERE r.document_id = q.document_id "
        "AND r.version = q.version) AS attempted "
        f"FROM quizzes q WHERE document_id = $1 AND version = $2 {lock}",
        document_id,
        version,
    )


def questions(row: Row) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = row["questions"]  # decoded by kit's jsonb codec
    return loaded


async def attempted(conn: Connection, document_id: uuid.UUID, version: int) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT FROM quiz_results WHERE document_id = $1 AND version = $2)",
            document_id,
            version,
        )
    )


async def put_quiz(
    conn: Connection,
    document_id: uuid.UUID,
    version: int,
    *,
    questions: list[dict[str, Any]],
    pass_percent: int,
    by: uuid.UUID,
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO quizzes (document_id, version, questions, pass_percent, authored_by, "
        "authored_at) VALUES ($1, $2, $3::jsonb, $4, $5, $6) "
        "ON CONFLICT (document_id, version) DO UPDATE SET questions = excluded.questions, "
        "pass_percent = excluded.pass_percent, authored_by = excluded.authored_by, "
        "authored_at = excluded.authored_at",
        document_id,
        version,
        questions,
        pass_percent,
        by,
        at,
    )


async def opened(
    conn: Connection, document_id: uuid.UUID, version: int, member_id: uuid.UUID
) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT FROM reads WHERE document_id = $1 AND version = $2 "
            "AND member_id = $3)",
            document_id,
            version,
            member_id,
        )
    )


async def my_result(
    conn: Connection, document_id: uuid.UUID, version: int, member_id: uuid.UUID
) -> Row | None:
    return await conn.fetchrow(
        "SELECT attempts, best_score, last_score, passed_at FROM quiz_results "
        "WHERE document_id = $1 AND version = $2 AND member_id = $3",
        document_id,
        version,
        member_id,
    )


# The first attempt is inserted; a later one moves the row forward (attempts + 1, the best score
# kept, passed_at set once), reading the row before from a FOR UPDATE subquery (re-read after a
# concurrent attempt commits), so of two concurrent attempts only one finds no pass before.
FIRST_ATTEMPT = """
INSERT INTO quiz_results (document_id, version, member_id, cell_id, org_path, attempts,
                          best_score, last_score, first_attempt_at, last_attempt_at, passed_at)
VALUES ($1, $2, $3, $4, $5, 1, $6, $6, $8, $8, CASE WHEN $7 THEN $8::timestamptz END)
ON CONFLICT (document_id, version, member_id) DO NOTHING
RETURNING attempts, best_score, last_score, passed_at, NULL::timestamptz AS old_passed_at
"""

NEXT_ATTEMPT = """
UPDATE quiz_results r SET
    attempts = o.attempts + 1,
    best_score = greatest(o.best_score, $6),
    last_score = $6,
    last_attempt_at = $8,
    passed_at = coalesce(o.passed_at, CASE WHEN $7 THEN $8::timestamptz END),
    cell_id = $4, org_path = $5
FROM (SELECT attempts, best_score, passed_at FROM quiz_results
       WHERE document_id = $1 AND version = $2 AND member_id = $3 FOR UPDATE) o
WHERE r.document_id = $1 AND r.version = $2 AND r.member_id = $3
RETURNING r.attempts, r.best_score, r.last_score, r.passed_at, o.passed_at AS old_passed_at
"""


async def record_attempt(
    conn: Connection,
    *,
    document_id: uuid.UUID,
    version: int,
    member_id: uuid.UUID,
    cell_id: uuid.UUID,
    org_path: str,
    score: int,
    passed: bool,
    at: datetime,
) -> Row:
    """The result after this attempt, with ``old_passed_at`` (the pass before it, if any)."""
    args = (document_id, version, member_id, cell_id, org_path, score, passed, at)
    row = await conn.fetchrow(FIRST_ATTEMPT, *args)
    if row is None:
        row = await conn.fetchrow(NEXT_ATTEMPT, *args)
    assert row is not None
    return row
