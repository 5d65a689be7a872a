"""Meetings' tables that grow with members × time, partitioned by month (sotay_kit.partitions).

The roster and attendance of each meeting (``meeting_invitees``: one row per invitee, the
largest table here) is partitioned by the month of its meeting's UUIDv7 id: check-ins, RSVPs,
the roster and the closing tally all name the meeting and read one partition. Kept by default
(attendance is the cell's record); an operator may set
``MEETINGS_PARTITION_RETENTION_MONTHS='{"meeting_invitees": 120}'``. Meetings scheduled before
UUIDv7 ids keep their rosters in the default partition.
"""

from __future__ import annotations

from sotay_kit.partitions import PartitionedTable

INVITEES = PartitionedTable("meeting_invitees", "meeting_id", "uuid7", retention_months=None)

# meetings_0001's ``meeting_invitees``, partitioned: the same columns in the same order.
INVITEES_DDL = """
CREATE TABLE meeting_invitees (
    meeting_id          uuid NOT NULL REFERENCES meetings (id),
    member_id           uuid NOT NULL,
    standing            text NOT NULL CHECK (standing IN ('member', 'exempt', 'guest')),
    rsvp                text CHECK (rsvp IN ('attending', 'absent')),
    rsvp_reason         text CHECK (rsvp_reason IN ('cong_tac', 'om', 'viec_gia_dinh', 'other')),
    rsvp_note           text CHECK (length(rsvp_note) <= 500),
    rsvp_at             timestamptz,
    checked_in_at       timestamptz,
    attendance          text CHECK (attendance IN
                          ('present', 'late', 'absent_excused', 'absent_unexcused', 'exempt')),
    attendance_method   text CHECK (attendance_method IN ('code', 'marked')),
    attendance_reason   text CHECK (attendance_reason IN
                          ('cong_tac', 'om', 'viec_gia_dinh', 'other')),
    attendance_by       uuid,
    attendance_at       timestamptz,
    final_status        text CHECK (final_status IN
                          ('present', 'late', 'absent_excused', 'absent_unexcused', 'exempt')),
    PRIMARY KEY (meeting_id, member_id)
) PARTITION BY RANGE (meeting_id);
CREATE INDEX meeting_invitees_member ON meeting_invitees (member_id);
"""

# For the downgrade: meetings_0001's table as it was.
INVITEES_PLAIN_DDL = INVITEES_DDL.replace(") PARTITION BY RANGE (meeting_id);", ");")
