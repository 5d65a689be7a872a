"""Identity: rewards and discipline on the member's record (khen thưởng, kỷ luật), each by the
decision of a competent party body.

Revision ID: identity_0005
Revises: identity_0004
Create Date: 2026-12-03
"""

from alembic import op

revision = "identity_0005"
down_revision = "identity_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE member_distinctions (
    id               uuid PRIMARY KEY,
    member_id        uuid NOT NULL REFERENCES members (id),
    kind             text NOT NULL CHECK (kind IN ('reward', 'discipline')),
    form             text NOT NULL CHECK (form IN ('huy_hieu', 'bang_khen', 'giay_khen',
                       'khen_thuong_khac', 'khien_trach', 'canh_cao', 'cach_chuc', 'khai_tru')),
    decision_number  text NOT NULL CHECK (length(decision_number) BETWEEN 1 AND 50),
    decided_on       date NOT NULL,
    decided_by       uuid NOT NULL REFERENCES org_units (id),
    reason           text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    recorded_by      uuid NOT NULL,
    recorded_at      timestamptz NOT NULL,
    CHECK ((kind = 'reward') = (form IN ('huy_hieu', 'bang_khen', 'giay_khen', 'khen_thuong_khac')))
);
CREATE INDEX member_distinctions_member ON member_distinctions (member_id, decided_on);
"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE member_distinctions")
