// One meeting as its secretary manages it: the plan, the replies, and the ways on: run it, change
// or cancel this occurrence, refresh the roster, the minutes.
import { useState } from "preact/hooks";
import { api, get, post } from "../../api/client";
import { t } from "../../i18n/vi";
import { ErrorBox, Screen, Show, useAsync } from "../../ui/common";
import { when } from "../../ui/format";
import type { Meeting } from "./api";
import { v } from "./vi";

function Cancel({ meeting, onDone }: { meeting: Meeting; onDone: () => void }) {
  const [reason, setReason] = useState("rescheduled");
  const [note, setNote] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await post(`/api/v1/meetings/${meeting.id}/cancel`, { reason_code: reason, note: note.trim() || null });
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <details class="card">
      <summary>{v.meeting.cancel}</summary>
      <form class="stack" onSubmit={submit}>
        <label for="cancel-reason">{v.meeting.cancelReason}</label>
        <select id="cancel-reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)}>
          {Object.entries(v.meeting.cancelReasons).map(([code, label]) => (
            <option key={code} value={code}>
              {label}
            </option>
          ))}
        </select>
        <label for="cancel-note">{v.meeting.cancelNote}</label>
        <textarea id="cancel-note" rows={2} maxLength={500} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
        {error !== null && <ErrorBox error={error} />}
        <button type="submit" class="button" disabled={busy}>
          {v.meeting.confirmCancel}
        </button>
      </form>
    </details>
  );
}

export function ManageMeeting({ id }: { id: string }) {
  const meeting = useAsync(() => get<Meeting>(`/api/v1/meetings/${id}`), [id]);
  const [message, setMessage] = useState("");
  const [error, setError] = useState<unknown>(null);
  async function refreshRoster() {
    setError(null);
    try {
      meeting.set(await api<Meeting>("PATCH", `/api/v1/meetings/${id}`, { body: { refresh_roster: true } }));
      setMessage(v.meeting.refreshed);
    } catch (e) {
      setError(e);
    }
  }
  return (
    <Show state={meeting}>
      {(m) => (
        <Screen title={m.title}>
          <p>
            <a href="/manage/cell">{v.back}</a>
          </p>
          <dl class="facts">
            <dt>{t.meetings.when}</dt>
            <dd>{when(m.starts_at.utc)}</dd>
            {m.location && (
              <>
                <dt>{t.meetings.where}</dt>
                <dd>{m.location}</dd>
              </>
            )}
            <dt>{t.meetings.statusLabel}</dt>
            <dd>{t.meetings.status[m.status] ?? m.status}</dd>
            {m.occurrence && (
              <>
                <dt>{v.form.kind}</dt>
                <dd>{v.meeting.occurrence(m.occurrence.index)}</dd>
              </>
            )}
          </dl>
          <section class="card" aria-labelledby="counts">
            <h2 id="counts">{v.meeting.counts}</h2>
            <dl class="facts">
              <dt>{v.meeting.invited}</dt>
              <dd>{m.counts.invited}</dd>
              <dt>{v.meeting.repliedAttending}</dt>
              <dd>{m.counts.replied_attending}</dd>
              <dt>{v.meeting.repliedAbsent}</dt>
              <dd>{m.counts.replied_absent}</dd>
              <dt>{v.meeting.attended}</dt>
              <dd>{m.counts.attended}</dd>
            </dl>
          </section>
          {m.agenda.length > 0 && (
            <section class="card" aria-labelledby="agenda">
              <h2 id="agenda">{t.meetings.agenda}</h2>
              <ol>
                {m.agenda.map((item, i) => (
                  <li key={i}>{item}</li>
                ))}
              </ol>
            </section>
          )}
          <div class="toolbar">
            {m.status === "scheduled" && (
              <a class="button" href={`/manage/cell/meetings/${m.id}/run`}>
                {v.meeting.run}
              </a>
            )}
            {m.status !== "cancelled" && (
              <a class="button secondary" href={`/manage/cell/meetings/${m.id}/minutes`}>
                {v.meeting.minutes}
              </a>
            )}
            {m.status === "scheduled" && (
              <>
                <a class="button secondary" href={`/manage/cell/meetings/${m.id}/edit`}>
                  {v.meeting.edit}
                </a>
                <button type="button" class="button secondary" onClick={refreshRoster}>
                  {v.form.refreshRoster}
                </button>
              </>
            )}
          </div>
          <p role="status" class="status">
            {message}
          </p>
          {error !== null && <ErrorBox error={error} />}
          {m.status === "scheduled" && <Cancel meeting={m} onDone={meeting.reload} />}
        </Screen>
      )}
    </Show>
  );
}
