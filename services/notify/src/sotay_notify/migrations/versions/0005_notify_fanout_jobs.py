"""Large fan-outs are written chunk by chunk by the worker, not by the consumer: the consumer
records a fan-out job (the notification's content and its audience) and returns, so a
province-wide publication no longer holds up the publications behind it on DOCUMENTS.

Revision ID: notify_0005
Revises: notify_0004
Create Date: 2026-12-02
"""

from alembic import op

revision = "notify_0005"
down_revision = "notify_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE fanout_jobs (
            id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            cause_type    text NOT NULL,
            cause_id      uuid NOT NULL,
            kind          text NOT NULL,
            title         text NOT NULL,
            body          text NOT NULL,
            link          text NOT NULL,
            urgent        boolean NOT NULL,
            audience_paths text[] NOT NULL,
            created_at    timestamptz NOT NULL,
            after_member  uuid,
            written       integer NOT NULL DEFAULT 0,
            done_at       timestamptz,
            UNIQUE (cause_type, cause_id, kind)
        );
        CREATE INDEX fanout_jobs_open ON fanout_jobs (id) WHERE done_at IS NULL;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE fanout_jobs")
