"""Identity: org tree, members and memberships, accounts, role grants, tokens, audit log.

Revision ID: identity_0001
Revises:
Create Date: 2026-11-30
"""

from alembic import op
from sotay_kit.audit import AUDIT_DDL

revision = "identity_0001"
down_revision = None
branch_labels = ("identity",)
depends_on = "kit_0001"


def upgrade() -> None:
    op.execute(
        """
-- Org tree. ``path`` is the materialised path of node keys from the root ("1.12.305"), so
-- "is X inside subtree Y" is `path = Y OR path LIKE Y || '.%'` on a text_pattern_ops index.
CREATE SEQUENCE org_key_seq;
CREATE TABLE org_units (
    id           uuid PRIMARY KEY,
    key          bigint NOT NULL UNIQUE DEFAULT nextval('org_key_seq'),
    parent_id    uuid REFERENCES org_units (id),
    path         text NOT NULL UNIQUE,
    code         text,
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    kind         text NOT NULL CHECK (kind IN
                   ('province', 'district', 'grassroots_committee', 'grassroots_cell', 'cell')),
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
    valid_from   date NOT NULL DEFAULT current_date,
    valid_to     date,
    successor_id uuid REFERENCES org_units (id),
    revision     integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CHECK ((parent_id IS NULL) = (position('.' IN path) = 0))
);
CREATE INDEX org_units_path_prefix ON org_units (path text_pattern_ops);
CREATE INDEX org_units_parent ON org_units (parent_id);
-- An official code is unique among the organisations that exist now.
CREATE UNIQUE INDEX org_units_code_open ON org_units (code) WHERE status <> 'closed';

-- Members. Personal data stays in this database; events carry only ids and org paths.
CREATE TABLE members (
    id              uuid PRIMARY KEY,
    card_number     text NOT NULL UNIQUE,
    full_name       text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    -- lower-case, diacritics removed: search "nguyen van a" finds "Nguyễn Văn A"
    search_name     text NOT NULL,
    date_of_birth   date,
    sex             text CHECK (sex IN ('male', 'female')),
    phone           text UNIQUE,
    email           text,
    admitted_on     date,
    official_on     date,
    membership      text NOT NULL DEFAULT 'official'
                      CHECK (membership IN ('official', 'probationary')),
    cell_id         uuid NOT NULL REFERENCES org_units (id),
    status          text NOT NULL DEFAULT 'active' CHECK (status IN
                      ('active', 'exempt', 'transferred_out', 'deceased', 'expelled')),
    -- AES-GCM with the service's data key; nonce || ciphertext
    citizen_id_enc  bytea,
    revision        integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX members_cell ON members (cell_id) WHERE status IN ('active', 'exempt');
CREATE INDEX members_search_name ON members (search_name text_pattern_ops);

-- Membership history: one open row per member; a transfer closes it and opens the next.
CREATE TABLE memberships (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id   uuid NOT NULL REFERENCES members (id),
    cell_id     uuid NOT NULL REFERENCES org_units (id),
    org_path    text NOT NULL,
    started_on  date NOT NULL,
    ended_on    date,
    end_reason  text CHECK (end_reason IN
                  ('transferred', 'transferred_out', 'deceased', 'expelled', 'other'))
);
CREATE UNIQUE INDEX memberships_open ON memberships (member_id) WHERE ended_on IS NULL;
CREATE INDEX memberships_cell ON memberships (cell_id);

-- Login accounts. An imported account has no password yet, only a one-time activation code
-- (high entropy, so a SHA-256 digest protects it; argon2 is kept for passwords people choose).
CREATE TABLE accounts (
    member_id              uuid PRIMARY KEY REFERENCES members (id),
    password_hash          text,
    activation_digest      bytea UNIQUE,
    activation_expires_at  timestamptz,
    must_change_password   boolean NOT NULL DEFAULT true,
    totp_secret_enc        bytea,
    totp_enabled           boolean NOT NULL DEFAULT false,
    totp_last_step         bigint,
    failed_logins          integer NOT NULL DEFAULT 0,
    locked_until           timestamptz,
    activated_at           timestamptz,
    password_changed_at    timestamptz,
    last_login_at          timestamptz,
    disabled               boolean NOT NULL DEFAULT false
);

-- Failed logins per source address (per account is on accounts), for throttling.
CREATE TABLE login_failures_by_source (
    source        inet PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    failures      integer NOT NULL,
    locked_until  timestamptz
);

CREATE TABLE role_grants (
    id          uuid PRIMARY KEY,
    member_id   uuid NOT NULL REFERENCES members (id),
    role        text NOT NULL CHECK (role IN ('member', 'cell_secretary', 'cell_deputy',
                  'committee_member', 'org_admin', 'operator')),
    org_id      uuid NOT NULL REFERENCES org_units (id),
    granted_by  uuid REFERENCES members (id),
    granted_at  timestamptz NOT NULL DEFAULT now(),
    revoked_by  uuid REFERENCES members (id),
    revoked_at  timestamptz
);
CREATE UNIQUE INDEX role_grants_active ON role_grants (member_id, role, org_id)
    WHERE revoked_at IS NULL;
CREATE INDEX role_grants_org ON role_grants (org_id) WHERE revoked_at IS NULL;

-- Token signing keys (Ed25519). Private keys encrypted with the data key; the newest active
-- key signs, every key not yet retired is published in the JWKS.
CREATE TABLE signing_keys (
    kid              text PRIMARY KEY,
    private_key_enc  bytea NOT NULL,
    public_jwk       jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    retired_at       timestamptz
);

-- Refresh tokens: opaque, stored as SHA-256 digests, rotated on every use. Reuse of a rotated
-- token revokes its whole family (RFC 9700 §4.14.2).
CREATE TABLE refresh_tokens (
    id           uuid PRIMARY KEY,
    family_id    uuid NOT NULL,
    member_id    uuid NOT NULL REFERENCES members (id),
    digest       bytea NOT NULL UNIQUE,
    issued_at    timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_member ON refresh_tokens (member_id) WHERE revoked_at IS NULL;


"""
    )
    op.execute(AUDIT_DDL)


def downgrade() -> None:
    raise NotImplementedError("identity's first revision is not reversible")
