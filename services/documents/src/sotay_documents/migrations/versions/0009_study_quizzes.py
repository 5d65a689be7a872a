"""Documents: study quizzes — a short multiple-choice quiz on a document version, and each
member's result (attempts, best score, when first passed).

``quiz_results`` is not partitioned (docs/decisions.md): it holds a row only for a member who
took a quiz, and quizzes are on a few required-study versions, so it stays a small fraction of
``reads``; every query names the document and version, which lead its primary key.

Revision ID: documents_0009
Revises: documents_0008
Create Date: 2026-12-03
"""

from alembic import op

revision = "documents_0009"
down_revision = "documents_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE quizzes (
    document_id     uuid NOT NULL,
    version         integer NOT NULL,
    -- [{"text": str, "choices": [str, ...2-6], "correct": int}], validated by the service
    questions       jsonb NOT NULL CHECK (jsonb_typeof(questions) = 'array'
                                          AND jsonb_array_length(questions) BETWEEN 5 AND 20),
    pass_percent    smallint NOT NULL DEFAULT 80 CHECK (pass_percent BETWEEN 1 AND 100),
    authored_by     uuid NOT NULL,
    authored_at     timestamptz NOT NULL,
    PRIMARY KEY (document_id, version),
    FOREIGN KEY (document_id, version) REFERENCES document_versions (document_id, version)
);
CREATE TABLE quiz_results (
    document_id     uuid NOT NULL,
    version         integer NOT NULL,
    member_id       uuid NOT NULL,
    cell_id         uuid NOT NULL,
    org_path        text NOT NULL,
    attempts        integer NOT NULL CHECK (attempts >= 1),
    best_score      smallint NOT NULL CHECK (best_score BETWEEN 0 AND 100),
    last_score      smallint NOT NULL CHECK (last_score BETWEEN 0 AND 100),
    first_attempt_at timestamptz NOT NULL,
    last_attempt_at timestamptz NOT NULL,
    passed_at       timestamptz,
    PRIMARY KEY (document_id, version, member_id),
    FOREIGN KEY (document_id, version) REFERENCES quizzes (document_id, version)
);
"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE quiz_results; DROP TABLE quizzes")
