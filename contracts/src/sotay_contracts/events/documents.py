"""Events produced by the documents service: publication, reading progress, retraction, and
the documents' directory entries.

``documents.document.published.v1`` and ``documents.document.read.v1`` are public subjects
(DESIGN.md §6): external analytics consumers read them from the ``PUBLIC`` stream, so they carry
no document's title or number. ``documents.directory.described.v1`` carries those display facts
for the services that show them (notify; analytics' reports later): an internal subject, never
sourced into ``PUBLIC`` (like ``identity.directory.*``).
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import ClassVar, Self

from pydantic import Field, model_validator

from sotay_contracts.envelope import Event
from sotay_contracts.events._common import AwareDatetime, OrgPath

__all__ = [
    "Classification",
    "ConsultationClosed",
    "ConsultationOpened",
    "DocumentDescribed",
    "DocumentKind",
    "DocumentPublished",
    "DocumentRead",
    "DocumentRetracted",
    "QuizPassed",
    "ReadState",
    "RetractionReason",
    "StudyReminderRequested",
]


class Classification(StrEnum):
    PUBLIC = "public"  # may be shown to anyone
    INTERNAL = "internal"  # lưu hành nội bộ: members of the audience only
    RESTRICTED = "restricted"  # committee members of the audience only, no download


class DocumentKind(StrEnum):
    RESOLUTION = "resolution"  # nghị quyết
    DIRECTIVE = "directive"  # chỉ thị
    CONCLUSION = "conclusion"  # kết luận
    REGULATION = "regulation"  # quy định
    GUIDANCE = "guidance"  # hướng dẫn
    PLAN = "plan"  # kế hoạch
    NOTICE = "notice"  # thông báo
    REPORT = "report"  # báo cáo
    OTHER = "other"


class ReadState(StrEnum):
    OPENED = "opened"  # first time the member opened this version
    PROGRESS = "progress"  # reading progress moved forward
    STUDIED = "studied"  # the member marked it studied


class RetractionReason(StrEnum):
    SUPERSEDED = "superseded"
    PUBLISHED_IN_ERROR = "published_in_error"
    EXPIRED = "expired"
    OTHER = "other"


class DocumentPublished(Event):
    """Fires when a committee publishes a document version down one or more org subtrees
    (one event per publication). Every active member whose cell path lies inside one of the
    audience subtrees is in the audience; ``audience_size`` is that count at publication time
    (the denominator of document reach).
    """

    SUBJECT: ClassVar[str] = "documents.document.published.v1"
    AGGREGATE: ClassVar[str] = "document_id"
    # A public subject: the document's title and number travel on documents.directory.* only.
    WITHHELD: ClassVar[frozenset[str]] = frozenset({"title", "number"})

    document_id: uuid.UUID
    version: int = Field(ge=1)
    publication_id: uuid.UUID
    audience_org_ids: list[uuid.UUID] = Field(min_length=1)
    audience_org_paths: list[OrgPath] = Field(
        min_length=1, description="Org paths of audience_org_ids, same order and length."
    )
    audience_size: int = Field(ge=0)
    study_required: bool
    study_deadline: AwareDatetime | None = None
    classification: Classification
    kind: DocumentKind
    published_by: uuid.UUID = Field(description="Member id of the publisher.")
    publisher_org_id: uuid.UUID = Field(description="Committee the document is published by.")
    occurred_at: AwareDatetime
    # Briefly filled in v1, kept because a released v1 schema never loses a field; producers
    # leave them empty (WITHHELD): this subject reaches external consumers, and the titles and
    # numbers of internal and restricted documents must not.
    title: str | None = Field(
        default=None,
        max_length=500,
        description="Deprecated, always null: the title is on documents.directory.described.v1.",
        json_schema_extra={"deprecated": True},
    )
    number: str | None = Field(
        default=None,
        max_length=100,
        description="Deprecated, always null: the number is on documents.directory.described.v1.",
        json_schema_extra={"deprecated": True},
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(self.audience_org_ids) != len(self.audience_org_paths):
            raise ValueError("audience_org_ids and audience_org_paths must have the same length")
        if self.study_deadline is not None and not self.study_required:
            raise ValueError("study_deadline is only allowed when study_required is true")
        return self


class DocumentRead(Event):
    """Fires when a member's reading state of a document version moves forward: first opened,
    progress advanced (throttled by the service: at most one event per 10 points of progress),
    marked studied. Never fires for a step backwards.
    """

    SUBJECT: ClassVar[str] = "documents.document.read.v1"
    AGGREGATE: ClassVar[str] = "document_id"

    document_id: uuid.UUID
    version: int = Field(ge=1)
    publication_id: uuid.UUID | None = Field(
        default=None,
        description="Publication that addressed the document to this member; None when read "
        "from the library without being addressed.",
    )
    member_id: uuid.UUID
    cell_id: uuid.UUID
    org_path: OrgPath = Field(description="Org path of the member's cell when reading.")
    state: ReadState
    progress_percent: int = Field(ge=0, le=100)
    occurred_at: AwareDatetime


class QuizPassed(Event):
    """Fires once per member and document version: the first time the member's attempt at the
    version's study quiz reaches its pass mark (later, better attempts fire nothing). The last
    stage of a publication's reach: sent → opened → studied → passed. Carries neither the score
    (a member's score is personal data no consumer needs) nor the answers; an internal subject,
    not sourced into ``PUBLIC``.
    """

    SUBJECT: ClassVar[str] = "documents.quiz.passed.v1"
    AGGREGATE: ClassVar[str] = "document_id"

    document_id: uuid.UUID
    version: int = Field(ge=1)
    publication_id: uuid.UUID | None = Field(
        default=None,
        description="Publication that addressed the document to this member (as on "
        "documents.document.read.v1).",
    )
    member_id: uuid.UUID
    cell_id: uuid.UUID
    org_path: OrgPath = Field(description="Org path of the member's cell when passing.")
    occurred_at: AwareDatetime


class DocumentRetracted(Event):
    """Fires when a published document (all its publications, or one publication) is retracted:
    it disappears from members' lists and no longer counts in reach reports from then on.
    """

    SUBJECT: ClassVar[str] = "documents.document.retracted.v1"
    AGGREGATE: ClassVar[str] = "document_id"

    document_id: uuid.UUID
    publication_id: uuid.UUID | None = Field(
        default=None, description="The one publication retracted; None means all of them."
    )
    reason_code: RetractionReason
    retracted_by: uuid.UUID
    occurred_at: AwareDatetime


class DocumentDescribed(Event):
    """Fires in the same transaction as, and just before, each publication of a document:
    the document's display facts, for services that show documents by number and title
    (notification texts, reports). A consumer of ``DOCUMENTS`` has it before the
    ``documents.document.published.v1`` it describes (same aggregate, stream order); a newer
    event for the same document replaces the facts of an older one.

    An internal directory subject: readable by the services' NATS users only, never sourced into
    ``PUBLIC`` — the titles and numbers of internal and restricted documents stay on the platform.
    """

    SUBJECT: ClassVar[str] = "documents.directory.described.v1"
    AGGREGATE: ClassVar[str] = "document_id"

    document_id: uuid.UUID
    version: int = Field(ge=1, description="The version these facts were taken at.")
    number: str | None = Field(
        default=None, max_length=100, description="The document's number, e.g. 05-NQ/HU."
    )
    title: str = Field(min_length=1, max_length=500, description="The title (trích yếu).")
    kind: DocumentKind
    classification: Classification = Field(
        description="Who may see the document, and so these facts: show them only to its "
        "audience (internal) or its audience's committee members (restricted)."
    )
    issuer: str | None = Field(
        default=None, max_length=300, description="The issuing body (cơ quan ban hành)."
    )
    issued_on: date | None = None
    owner_org_id: uuid.UUID = Field(description="The organisation that owns the document.")
    occurred_at: AwareDatetime


class StudyReminderRequested(Event):
    """Fires when a cell's secretary (or a committee above the cell) asks to remind the members
    of an org who have not yet studied a required publication; at most once per publication,
    org and day (Vietnam's date). Notify sends the reminder to the members of ``org_path`` in
    the publication's audience who have not studied it. Names no member and no document's
    title: an internal subject, never sourced into ``PUBLIC``.
    """

    SUBJECT: ClassVar[str] = "documents.study.reminder_requested.v1"
    AGGREGATE: ClassVar[str] = "publication_id"

    document_id: uuid.UUID
    version: int = Field(ge=1, description="The publication's version.")
    publication_id: uuid.UUID
    org_id: uuid.UUID = Field(description="The org whose members are reminded (a cell).")
    org_path: OrgPath
    day: date = Field(description="Vietnam's date of the request (one request per day).")
    requested_by: uuid.UUID = Field(description="Member id of the secretary who asked.")
    occurred_at: AwareDatetime


class ConsultationOpened(Event):
    """Fires when a committee opens a document version for comments (lấy ý kiến góp ý dự thảo)
    by the members of one org subtree until a deadline. Ids, paths, the deadline, counts and
    the consultation's title (what the members are asked about, so that their notification
    names it): no comment, no name. An internal subject, never sourced into ``PUBLIC``.
    """

    SUBJECT: ClassVar[str] = "documents.consultation.opened.v1"
    AGGREGATE: ClassVar[str] = "consultation_id"

    consultation_id: uuid.UUID
    document_id: uuid.UUID
    version: int = Field(ge=1, description="The draft version consulted on.")
    org_id: uuid.UUID = Field(description="Root of the consulted subtree.")
    org_path: OrgPath = Field(description="Members whose cell lies in this subtree may comment.")
    committee_org_path: OrgPath = Field(description="The committee that runs the consultation.")
    deadline: AwareDatetime
    section_count: int = Field(ge=0, description="Sections of the draft that take comments.")
    audience_size: int = Field(ge=0, description="Active members of the subtree at opening.")
    opened_by: uuid.UUID
    occurred_at: AwareDatetime
    title: str | None = Field(
        default=None,
        max_length=600,
        description="The consultation's title as the committee wrote it (optional: absent from "
        "events of before it was carried).",
    )


class ConsultationClosed(Event):
    """Fires when a committee closes a consultation: how many contributions it received, from
    how many members and cells, and how they were dealt with. Counts only."""

    SUBJECT: ClassVar[str] = "documents.consultation.closed.v1"
    AGGREGATE: ClassVar[str] = "consultation_id"

    consultation_id: uuid.UUID
    document_id: uuid.UUID
    org_path: OrgPath
    contributions: int = Field(ge=0, description="Contributions not withdrawn.")
    contributors: int = Field(ge=0, description="Distinct members who contributed.")
    cells: int = Field(ge=0, description="Distinct cells contributions came from.")
    accepted: int = Field(ge=0, description="Taken into account (tiếp thu).")
    rejected: int = Field(ge=0, description="Not taken into account.")
    pending: int = Field(ge=0, description="Not yet dealt with.")
    closed_by: uuid.UUID
    occurred_at: AwareDatetime

    @model_validator(mode="after")
    def _counts_add_up(self) -> Self:
        if self.accepted + self.rejected + self.pending != self.contributions:
            raise ValueError("dispositions must add up to the contributions")
        if self.contributors > self.contributions or self.cells > self.contributors:
            raise ValueError("more contributors or cells than contributions")
        return self
