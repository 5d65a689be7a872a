"""Documents' tables that grow with members × time, partitioned by month (sotay_kit.partitions).

Reading progress (``reads``: one row per member and document version) is partitioned by the
month of its document's UUIDv7 id: every query on it names the document, so it reads one
partition, and a month's documents take their readers with them if a retention is set. Kept by
default (the study record of a document lasts as long as the document); an operator may set
``DOCUMENTS_PARTITION_RETENTION_MONTHS='{"reads": 60}'``. Documents created before UUIDv7 ids
keep their readers in the default partition.
"""

from __future__ import annotations

from sotay_kit.partitions import PartitionedTable

READS = PartitionedTable("reads", "document_id", "uuid7", retention_months=None)

# documents_0001's ``reads``, partitioned: the same columns in the same order.
READS_DDL = """
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
    last_event_progress smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (document_id, version, member_id),
    FOREIGN KEY (document_id, version) REFERENCES document_versions (document_id, version)
) PARTITION BY RANGE (document_id);
CREATE INDEX reads_member ON reads (member_id);
"""

# For the downgrade: documents_0001's table as it was.
READS_PLAIN_DDL = READS_DDL.replace(") PARTITION BY RANGE (document_id);", ");")
