import { useEffect, useRef, useState } from "preact/hooks";
import type { Attendance, Meeting, MeetingSummary, Page, RsvpIn } from "../api/types";
import { t } from "../i18n/vi";
import { cachedGet, write } from "../offline/store";
import { ErrorBox, Screen, Show, useAsync } from "../ui/common";
import { when } from "../ui/format";
import { useLocation } from "../ui/router";
import { Votes } from "./Votes";

function isPresent(attendance: string | null | undefined): boolean {
  return attendance === "present" || attendance === "late";
}

function myReply(m: MeetingSummary): string {
  if (m.me?.checked_in_at) return t.meetings.present;
  if (m.me?.rsvp === "attending") return t.meetings.attending;
  if (m.me?.rsvp === "absent") return t.meetings.absent;
  return t.meetings.replyNone;
}

export function MeetingCard({ meeting }: { meeting: MeetingSummary }) {
  return (
    <a class="row-link meeting" href={`/meetings/${meeting.id}`}>
      <strong>{meeting.title}</strong>
      <span>
        {t.meetings.when}: {when(meeting.starts_at.utc)}
      </span>
      {meeting.location && (
        <span>
          {t.meetings.where}: {meeting.location}
        </span>
      )}
      <span>
        {t.meetings.myReply}: {myReply(meeting)}
      </span>
    </a>
  );
}

export function Meetings() {
  const location = useLocation();
  const past = location.searchParams.get("when") === "past";
  const list = useAsync(
    () =>
      cachedGet<Page<MeetingSummary>>("/api/v1/meetings", {
        scope: "mine",
        when: past ? "past" : "upcoming",
        limit: 30,
      }),
    [past],
  );
  return (
    <Screen title={t.meetings.title}>
      <nav class="tabs" aria-label={t.meetings.title}>
        <a href="/meetings" aria-current={past ? undefined : "page"}>
          {t.meetings.upcoming}
        </a>
        <a href="/meetings?when=past" aria-current={past ? "page" : undefined}>
          {t.meetings.past}
        </a>
      </nav>
      <Show state={list}>
        {(page) =>
          page.items.length ? (
            <ul class="list">
              {page.items.map((m) => (
                <li key={m.id}>
                  <MeetingCard meeting={m} />
                </li>
              ))}
            </ul>
          ) : (
            <p>{t.meetings.none}</p>
          )
        }
      </Show>
    </Screen>
  );
}

export function MeetingDetail({ id }: { id: string }) {
  const meeting = useAsync(() => cachedGet<Meeting>(`/api/v1/meetings/${id}`), [id]);
  return (
    <Show state={meeting}>
      {(m) => (
        <Screen title={m.title}>
          <dl class="facts">
            <dt>{t.meetings.when}</dt>
            <dd>{when(m.starts_at.utc)}</dd>
            {m.location && (
              <>
                <dt>{t.meetings.where}</dt>
                <dd>{m.location}</dd>
              </>
            )}
            <dt>{t.meetings.myReply}</dt>
            <dd>{myReply(m)}</dd>
            <dt>{t.meetings.statusLabel}</dt>
            <dd>{t.meetings.status[m.status] ?? m.status}</dd>
          </dl>
          {m.agenda.length > 0 && (
            <section aria-labelledby="agenda" class="card">
              <h2 id="agenda">{t.meetings.agenda}</h2>
              <ol>
                {m.agenda.map((item, i) => (
                  <li key={i}>{item}</li>
                ))}
              </ol>
            </section>
          )}
          {m.document_ids.length > 0 && (
            <section aria-labelledby="attached" class="card">
              <h2 id="attached">{t.meetings.documents}</h2>
              <ul class="list">
                {m.document_ids.map((d) => (
                  <li key={d}>
                    <a class="row-link" href={`/documents/${d}`}>
                      {t.documents.read}
                    </a>
                  </li>
                ))}
              </ul>
            </section>
          )}
          {m.status !== "closed" && m.status !== "cancelled" && m.me && m.me.standing !== "exempt" && (
            <>
              <Reply meeting={m} onDone={meeting.reload} />
              {m.me.checked_in_at ? (
                <section aria-labelledby="checkin" class="card">
                  <h2 id="checkin">{t.meetings.checkin}</h2>
                  <p role="status">{t.meetings.checkedIn}</p>
                </section>
              ) : (
                <CheckIn meeting={m} onDone={meeting.reload} />
              )}
            </>
          )}
          {m.status !== "cancelled" && m.me?.standing === "member" && isPresent(m.me.attendance) && (
            <Votes meetingId={m.id} running={m.status === "scheduled"} />
          )}
        </Screen>
      )}
    </Show>
  );
}

function Reply({ meeting, onDone }: { meeting: Meeting; onDone: () => void }) {
  const [response, setResponse] = useState<"attending" | "absent">(meeting.me?.rsvp ?? "attending");
  const [reason, setReason] = useState(meeting.me?.rsvp_reason ?? "");
  const [note, setNote] = useState(meeting.me?.rsvp_note ?? "");
  const [message, setMessage] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setMessage("");
    const body: RsvpIn = {
      response,
      reason_code: response === "absent" ? (reason as RsvpIn["reason_code"]) || null : null,
      note: response === "absent" && note.trim() ? note.trim() : null,
    };
    try {
      const answer = await write("POST", `/api/v1/meetings/${meeting.id}/rsvp`, body);
      setMessage(answer === null ? t.meetings.replyQueued : t.meetings.replied);
      if (answer !== null) onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="reply" class="card">
      <h2 id="reply">{t.meetings.myReply}</h2>
      <form onSubmit={submit} class="stack">
        <fieldset>
          <legend class="visually-hidden">{t.meetings.myReply}</legend>
          <label class="check">
            <input
              type="radio"
              name="response"
              value="attending"
              checked={response === "attending"}
              onChange={() => setResponse("attending")}
            />
            {t.meetings.replyAttending}
          </label>
          <label class="check">
            <input
              type="radio"
              name="response"
              value="absent"
              checked={response === "absent"}
              onChange={() => setResponse("absent")}
            />
            {t.meetings.replyAbsent}
          </label>
        </fieldset>
        {response === "absent" && (
          <>
            <label for="reason">{t.meetings.reason}</label>
            <select id="reason" required value={reason} onChange={(e) => setReason(e.currentTarget.value)}>
              <option value="">—</option>
              {Object.entries(t.meetings.reasons).map(([code, label]) => (
                <option key={code} value={code}>
                  {label}
                </option>
              ))}
            </select>
            <label for="note">{t.meetings.note}</label>
            <textarea id="note" rows={3} maxLength={500} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          </>
        )}
        {error !== null && <ErrorBox error={error} />}
        <p role="status" class="status">
          {message}
        </p>
        <button type="submit" class="button" disabled={busy}>
          {t.meetings.sendReply}
        </button>
      </form>
    </section>
  );
}

interface Scanner {
  stop: () => void;
}

function CheckIn({ meeting, onDone }: { meeting: Meeting; onDone: () => void }) {
  const [code, setCode] = useState("");
  const [scanning, setScanning] = useState(false);
  const [message, setMessage] = useState("");
  const [error, setError] = useState<unknown>(null);
  const video = useRef<HTMLVideoElement>(null);
  const scanner = useRef<Scanner | null>(null);

  useEffect(() => () => scanner.current?.stop(), []);

  async function send(value: string) {
    setError(null);
    try {
      const answer = await write<Attendance>("POST", `/api/v1/meetings/${meeting.id}/checkin`, { code: value });
      setMessage(answer === null ? t.meetings.checkinQueued : t.meetings.checkedIn);
      if (answer !== null) onDone();
    } catch (e) {
      setError(e);
    }
  }

  async function startScan() {
    setError(null);
    setMessage(t.meetings.scanning);
    setScanning(true);
    try {
      // The decoder (and jsQR where BarcodeDetector is missing) loads only on this screen.
      const { scan } = await import("../scan");
      scanner.current = await scan(video.current!, (payload) => {
        const url = new URL(payload.replace(/^sotay:\/\//, "https://sotay.invalid/"));
        const scanned = url.searchParams.get("code");
        if (!scanned || (url.searchParams.get("meeting") ?? meeting.id) !== meeting.id) return false;
        scanner.current?.stop();
        setScanning(false);
        setCode(scanned);
        void send(scanned);
        return true;
      });
    } catch {
      setScanning(false);
      setMessage(t.meetings.noCamera);
    }
  }

  function stopScan() {
    scanner.current?.stop();
    setScanning(false);
    setMessage("");
  }

  return (
    <section aria-labelledby="checkin" class="card">
      <h2 id="checkin">{t.meetings.checkin}</h2>
      <p>{t.meetings.checkinIntro}</p>
      <video ref={video} class={scanning ? "camera" : "camera hidden"} muted playsInline aria-label={t.meetings.video} />
      {scanning ? (
        <button type="button" class="button secondary" onClick={stopScan}>
          {t.meetings.stopScan}
        </button>
      ) : (
        <button type="button" class="button" onClick={startScan}>
          {t.meetings.scan}
        </button>
      )}
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void send(code.trim());
        }}
      >
        <label for="checkin-code">{t.meetings.code}</label>
        <input
          id="checkin-code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9]*"
          maxLength={6}
          required
          value={code}
          onInput={(e) => setCode(e.currentTarget.value)}
        />
        <button type="submit" class="button secondary">
          {t.meetings.sendCode}
        </button>
      </form>
      {error !== null && <ErrorBox error={error} />}
      <p role="status" class="status">
        {message}
      </p>
    </section>
  );
}
