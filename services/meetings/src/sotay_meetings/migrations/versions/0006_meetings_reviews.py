"""Meetings: the annual review of party members (kiểm điểm, đánh giá, xếp loại đảng viên).

A committee opens a review period for its subtree and year; each member's review holds their
self-assessment and proposed grade, the cell's secret vote on their grade (a motion of the
cell's review meeting), the cell's proposal and the competent committee's final grade.

Revision ID: meetings_0006
Revises: meetings_0005
Create Date: 2026-12-03
"""

from alembic import op

revision = "meetings_0006"
down_revision = "meetings_0005"
branch_labels = None
depends_on = None

GRADES = "('xuat_sac', 'tot', 'hoan_thanh', 'khong_hoan_thanh')"


def upgrade() -> None:
    op.execute(
        f"""
CREATE TABLE review_periods (
    id               uuid PRIMARY KEY,
    org_id           uuid NOT NULL,
    org_path         text NOT NULL,
    year             integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    self_deadline    timestamptz NOT NULL,
    excellent_share  numeric(3, 2) NOT NULL CHECK (excellent_share BETWEEN 0 AND 1),
    opened_by        uuid NOT NULL,
    opened_at        timestamptz NOT NULL,
    UNIQUE (org_id, year)
);
CREATE INDEX review_periods_path ON review_periods (org_path text_pattern_ops, year);

CREATE TABLE member_reviews (
    period_id        uuid NOT NULL REFERENCES review_periods (id),
    member_id        uuid NOT NULL,
    cell_id          uuid NOT NULL,
    cell_path        text NOT NULL,
    self_assessment  text CHECK (length(self_assessment) BETWEEN 1 AND 8000),
    self_grade       text CHECK (self_grade IN {GRADES}),
    self_at          timestamptz,
    motion_id        uuid REFERENCES motions (id),
    vote_totals      integer[],          -- per grade, in the order of GRADES, once closed
    voted_grade      text CHECK (voted_grade IN {GRADES}),
    proposed_grade   text CHECK (proposed_grade IN {GRADES}),
    proposed_by      uuid,
    proposed_at      timestamptz,
    final_grade      text CHECK (final_grade IN {GRADES}),
    final_reason     text CHECK (length(final_reason) BETWEEN 1 AND 2000),
    decided_org_id   uuid,
    decided_by       uuid,
    decided_at       timestamptz,
    PRIMARY KEY (period_id, member_id),
    UNIQUE (motion_id),
    CHECK ((self_at IS NULL) = (self_grade IS NULL)),
    CHECK (final_grade IS NULL OR proposed_grade IS NOT NULL)
);
CREATE INDEX member_reviews_cell ON member_reviews (period_id, cell_id);
CREATE INDEX member_reviews_member ON member_reviews (member_id);
"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE member_reviews, review_periods")
