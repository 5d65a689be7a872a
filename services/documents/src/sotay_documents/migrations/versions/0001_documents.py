"""Documents: files, versions, publications down the tree, reading progress, bookmarks,
handbook, news; the identity projection; the audit log (uploads, internal downloads).

Revision ID: documents_0001
Revises:
Create Date: 2026-11-30
"""

from alembic import op
from sotay_kit.audit import AUDIT_DDL
from sotay_kit.projections.identity import DDL as IDENTITY_PROJECTION_DDL

revision = "documents_0001"
down_revision = None
branch_labels = ("documents",)
depends_on = "kit_0001"

KINDS = (
    "resolution", "directive", "conclusion", "regulation", "rules", "guidance", "notice",
    "plan", "official_letter", "study_material", "report", "other",
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(IDENTITY_PROJECTION_DDL)
    op.execute(AUDIT_DDL)
    kinds = ", ".join(f"'{k}'" for k in KINDS)
    op.execute(
        f"""
-- Content-addressed files: one S3 object per distinct content, keyed by its SHA-256.
CREATE TABLE blobs (
    sha256       text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{{64}}$'),
    size         bigint NOT NULL CHECK (size > 0),
    content_type text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE documents (
    id              uuid PRIMARY KEY,
    number          text CHECK (length(number) <= 100),
    kind            text NOT NULL CHECK (kind IN ({kinds})),
    issuer          text CHECK (length(issuer) <= 300),
    issued_on       date,
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    summary         text CHECK (length(summary) <= 5000),
    classification  text NOT NULL CHECK (classification IN ('public', 'internal')),
    tags            text[] NOT NULL DEFAULT '{{}}',
    owner_org_id    uuid NOT NULL,
    owner_org_path  text NOT NULL,
    created_by      uuid NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    current_version integer NOT NULL DEFAULT 1,
    first_published_at timestamptz,
    -- Org paths of the active publications' targets (kept with publish / retract / org move):
    -- a member sees the document when one of them is on the path from their cell to the root.
    audience_paths  text[] NOT NULL DEFAULT '{{}}',
    -- Search: folded (no diacritics, lower case, punctuation as spaces).
    -- search_text is everything (title, number, issuer, summary, tags, extracted text) and is
    -- what matches; ranking reads only the small rank_tsv (title and number weighted A, the
    -- rest of the metadata B), so it never has to detoast a long document's vector.
    search_title    text NOT NULL,
    search_head     text NOT NULL DEFAULT '',
    search_text     text NOT NULL,
    number_folded   text NOT NULL DEFAULT '',
    search_tsv      tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED,
    rank_tsv        tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector('simple', search_title), 'A')
                        || setweight(to_tsvector('simple', search_head), 'B')) STORED
);
CREATE INDEX documents_search ON documents USING gin (search_tsv);
CREATE INDEX documents_number_trgm ON documents USING gin (number_folded gin_trgm_ops);
CREATE INDEX documents_audience ON documents USING gin (audience_paths);
CREATE INDEX documents_owner_path ON documents (owner_org_path text_pattern_ops);
CREATE INDEX documents_tags ON documents USING gin (tags);
CREATE INDEX documents_recent ON documents ((coalesce(first_published_at, created_at)) DESC, id);

CREATE TABLE document_versions (
    document_id   uuid NOT NULL REFERENCES documents (id),
    version       integer NOT NULL CHECK (version >= 1),
    sha256        text NOT NULL REFERENCES blobs (sha256),
    size          bigint NOT NULL,
    content_type  text NOT NULL,
    filename      text NOT NULL,
    extracted_chars integer NOT NULL DEFAULT 0,
    note          text,
    uploaded_by   uuid NOT NULL,
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, version)
);

CREATE TABLE publications (
    id                 uuid PRIMARY KEY,
    document_id        uuid NOT NULL,
    version            integer NOT NULL,
    org_ids            uuid[] NOT NULL,
    org_paths          text[] NOT NULL,
    study_required     boolean NOT NULL,
    study_deadline     timestamptz,
    audience_size      integer NOT NULL,
    published_by       uuid NOT NULL,
    publisher_org_id   uuid NOT NULL,
    publisher_org_path text NOT NULL,
    published_at       timestamptz NOT NULL DEFAULT now(),
    retracted_at       timestamptz,
    retracted_by       uuid,
    retraction_reason  text,
    FOREIGN KEY (document_id, version) REFERENCES document_versions (document_id, version),
    CHECK (study_deadline IS NULL OR study_required)
);
CREATE INDEX publications_document ON publications (document_id);

CREATE TABLE publication_targets (
    publication_id uuid NOT NULL REFERENCES publications (id),
    document_id    uuid NOT NULL,
    org_id         uuid NOT NULL,
    org_path       text NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    PRIMARY KEY (publication_id, org_id)
);
CREATE INDEX publication_targets_path ON publication_targets (org_path) WHERE active;
CREATE INDEX publication_targets_document ON publication_targets (document_id) WHERE active;

-- Reading progress per member per document version. Progress only moves forward.
CREATE TABLE reads (
    document_id         uuid NOT NULL,
    version             integer NOT NULL,
    member_id           uuid NOT NULL,
    cell_id             uuid NOT NULL,
    org_path            text NOT NULL,
    first_opened_at     timestamptz NOT NULL,
    last_read_at        timestamptz NOT NULL,
    progress_percent    smallint NOT NULL CHECK (progress_percent BETWEEN 0 AND 100),
    studied_at          timestamptz,
    -- progress of the last DocumentRead emitted (events are throttled to 10-point steps)
    last_event_progress smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (document_id, version, member_id),
    FOREIGN KEY (document_id, version) REFERENCES document_versions (document_id, version)
);
CREATE INDEX reads_member ON reads (member_id);

CREATE TABLE bookmarks (
    member_id   uuid NOT NULL,
    document_id uuid NOT NULL REFERENCES documents (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, document_id)
);

-- Handbook (nghiệp vụ công tác Đảng): Markdown articles loaded from files at start-up.
CREATE TABLE handbook_articles (
    slug          text PRIMARY KEY CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    title         text NOT NULL,
    category      text NOT NULL,
    body          text NOT NULL,
    content_hash  text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    search_title  text NOT NULL,
    search_text   text NOT NULL,
    search_tsv    tsvector GENERATED ALWAYS AS (
                      setweight(to_tsvector('simple', search_title), 'A')
                      || setweight(to_tsvector('simple', search_text), 'D')) STORED
);
CREATE INDEX handbook_search ON handbook_articles USING gin (search_tsv);

-- News addressed down the tree like documents.
CREATE TABLE news (
    id               uuid PRIMARY KEY,
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    body             text NOT NULL CHECK (length(body) <= 50000),
    org_ids          uuid[] NOT NULL,
    org_paths        text[] NOT NULL,
    published_by     uuid NOT NULL,
    -- The committee it is published by (the narrowest publishing grant of the publisher that
    -- covers every target): only that committee's publishers may retract it.
    publisher_org_path text NOT NULL,
    published_at     timestamptz NOT NULL DEFAULT now(),
    retracted_at     timestamptz
);
CREATE INDEX news_audience ON news USING gin (org_paths) WHERE retracted_at IS NULL;
CREATE INDEX news_recent ON news (published_at DESC, id);
"""
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE news, handbook_articles, audit_log, bookmarks, reads, "
        "publication_targets, publications, document_versions, documents, blobs, "
        "idp_grants, idp_memberships, idp_members, idp_orgs; "
        "DROP FUNCTION audit_log_append_only()"
    )
