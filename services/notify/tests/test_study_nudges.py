"""A cell secretary's reminder to study (documents.study.reminder_requested.v1): to the members of
that cell who have not studied the publication, once per cell and day."""

from __future__ import annotations

from datetime import date

from sotay_contracts.events import documents as dev

from .conftest import NotifyApp, at
from .test_inbox import published
from .test_reminders import reminders_of


def requested(
    svc: NotifyApp, event: dev.DocumentPublished, day: date
) -> dev.StudyReminderRequested:
    w = svc.world
    return dev.StudyReminderRequested(
        document_id=event.document_id,
        version=1,
        publication_id=event.publication_id,
        org_id=w.orgs["cell_a"],
        org_path=w.paths["cell_a"],
        day=day,
        requested_by=w.members["sec"],
        occurred_at=at(days=1),
    )


async def test_the_secretarys_reminder_reaches_the_cells_members_who_have_not_studied(
    svc: NotifyApp,
) -> None:
    w = svc.world
    event = published(svc, "district", study_deadline=at(days=10))
    await svc.publish(event)
    await svc.publish(
        dev.DocumentRead(
            document_id=event.document_id,
            version=1,
            publication_id=event.publication_id,
            member_id=w.members["a1"],
            cell_id=w.orgs["cell_a"],
            org_path=w.paths["cell_a"],
            state=dev.ReadState.STUDIED,
            progress_percent=100,
            occurred_at=at(hours=2),
        )
    )
    await svc.publish(requested(svc, event, date(2026, 12, 2)))
    [nudge] = await reminders_of(svc, "a2")
    assert str(nudge["title"]).startswith("Bí thư chi bộ nhắc học tập")
    assert "chưa hoàn thành học tập" in str(nudge["body"])
    assert nudge["link"] == f"/documents/{event.document_id}"
    assert await reminders_of(svc, "a1") == []  # studied
    assert await reminders_of(svc, "b1") == []  # another cell of the audience

    # The same event again (a redelivery) adds nothing; the next day's reminder does.
    await svc.publish(requested(svc, event, date(2026, 12, 2)))
    assert len(await reminders_of(svc, "a2")) == 1
    await svc.publish(requested(svc, event, date(2026, 12, 3)))
    assert len(await reminders_of(svc, "a2")) == 2
