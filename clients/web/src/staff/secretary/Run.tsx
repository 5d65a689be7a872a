// Run the meeting from the secretary's phone: the rotating check-in QR (full screen, screen kept
// awake), the live attendance list, marks for members without phones, and closing with tallies.
import { Fragment } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { get, getIfChanged, post } from "../../api/client";
import type { CellMate } from "../../api/types";
import { ErrorBox, Screen, Show, useAsync } from "../../ui/common";
import type { QrPath } from "./qr";
import { Motions } from "./Motions";
import { cellMates, nameOf, type AttendanceMark, type CheckinCode, type Invitee, type Meeting } from "./api";
import { v } from "./vi";

const POLL_MS = 4_000;

interface WakeLockSentinelLike {
  release: () => Promise<void>;
}

/** Keeps the screen on while mounted (Wake Lock API where the browser has it), re-acquired
 *  when the page becomes visible again (the browser releases it when the page is hidden). */
function useWakeLock(): boolean {
  const [held, setHeld] = useState(false);
  useEffect(() => {
    const wakeLock = (navigator as Navigator & { wakeLock?: { request: (t: "screen") => Promise<WakeLockSentinelLike> } })
      .wakeLock;
    if (!wakeLock) return;
    let sentinel: WakeLockSentinelLike | null = null;
    let live = true;
    const acquire = () => {
      if (document.visibilityState !== "visible") return;
      wakeLock.request("screen").then(
        (s) => {
          if (!live) void s.release();
          else {
            sentinel = s;
            setHeld(true);
          }
        },
        () => setHeld(false),
      );
    };
    acquire();
    document.addEventListener("visibilitychange", acquire);
    return () => {
      live = false;
      document.removeEventListener("visibilitychange", acquire);
      void sentinel?.release();
    };
  }, []);
  return held;
}

function CheckinQr({ meetingId }: { meetingId: string }) {
  const [code, setCode] = useState<CheckinCode | null>(null);
  const [qr, setQr] = useState<QrPath | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [presenting, setPresenting] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const awake = useWakeLock();

  useEffect(() => {
    let timer = 0;
    let live = true;
    const load = async () => {
      let delay = 15_000;
      try {
        const [next, { qrPath }] = await Promise.all([
          get<CheckinCode>(`/api/v1/meetings/${meetingId}/checkin-code`, { svg: "false" }),
          import("./qr"),
        ]);
        if (!live) return;
        setCode(next);
        setQr(qrPath(next.qr_payload));
        setError(null);
        // Fetch the next code shortly before this one expires (the previous step is still
        // accepted, so a late refresh never locks anyone out).
        const left = new Date(next.expires_at).getTime() - Date.now();
        delay = Math.min(Math.max(left - 2_000, 1_000), next.step_seconds * 1000);
      } catch (e) {
        if (live) setError(e);
      }
      if (live) timer = window.setTimeout(load, delay);
    };
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [meetingId]);

  useEffect(() => {
    const left = () => {
      if (!document.fullscreenElement) setPresenting(false);
    };
    document.addEventListener("fullscreenchange", left);
    return () => document.removeEventListener("fullscreenchange", left);
  }, []);

  async function toggle() {
    if (presenting) {
      setPresenting(false);
      if (document.fullscreenElement) await document.exitFullscreen().catch(() => undefined);
      return;
    }
    setPresenting(true);
    await box.current?.requestFullscreen?.().catch(() => undefined);
  }

  return (
    <section class={presenting ? "card checkin-qr presenting" : "card checkin-qr"} aria-labelledby="qr-title" ref={box}>
      <h2 id="qr-title">{v.run.qrTitle}</h2>
      {error !== null && <ErrorBox error={error} />}
      {code && qr && (
        <>
          <div class="qr-frame" data-testid="checkin-qr">
            <svg
              class="checkin-qr-code"
              viewBox={`0 0 ${qr.size} ${qr.size}`}
              role="img"
              aria-label={`${v.run.qrTitle} ${code.code}`}
              shape-rendering="crispEdges"
            >
              <rect width={qr.size} height={qr.size} fill="#fff" />
              <path d={qr.d} fill="#000" />
            </svg>
          </div>
          <p class="code">
            {v.run.code}: <strong data-testid="checkin-code">{code.code}</strong>
          </p>
          <p class="hint">
            {v.run.qrHint} {code.step_seconds} {v.run.seconds}.
          </p>
        </>
      )}
      {awake && <p class="hint">{v.run.awake}</p>}
      <button type="button" class="button secondary" onClick={toggle}>
        {presenting ? v.run.exitFullScreen : v.run.fullScreen}
      </button>
    </section>
  );
}

function statusText(i: Invitee): string {
  const status = i.final_status ?? i.attendance;
  if (!status) return i.rsvp ? `${v.run.notYet} · ${v.run.replied[i.rsvp]}` : v.run.notYet;
  const how = i.attendance_method === "code" ? v.run.byCode : i.attendance_method === "marked" ? v.run.byMark : "";
  return how ? `${v.run.statuses[status] ?? status} (${how})` : (v.run.statuses[status] ?? status);
}

function MarkRow({ meeting, invitee, name, onMarked }: { meeting: Meeting; invitee: Invitee; name: string; onMarked: () => void }) {
  const current = invitee.attendance ?? (invitee.rsvp === "absent" ? "absent_excused" : "present");
  const [status, setStatus] = useState(current);
  const [reason, setReason] = useState<string>(invitee.rsvp_reason ?? "om");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const key = invitee.member_id;
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body: AttendanceMark = {
      status: status as AttendanceMark["status"],
      reason_code: status === "absent_excused" ? (reason as AttendanceMark["reason_code"]) : null,
    };
    try {
      await post(`/api/v1/meetings/${meeting.id}/attendance/${key}`, body);
      onMarked();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <li class="attendee" data-member={key}>
      <strong>{name}</strong>
      <span class="meta" data-testid="attendance-status">
        {invitee.standing === "exempt" ? v.run.statuses.exempt : statusText(invitee)}
      </span>
      {invitee.standing !== "exempt" && meeting.status === "scheduled" && (
        <form class="inline mark" onSubmit={submit}>
          <label class="visually-hidden" for={`mark-${key}`}>
            {v.run.markFor(name)}
          </label>
          <select id={`mark-${key}`} value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            {["present", "late", "absent_excused", "absent_unexcused"].map((s) => (
              <option key={s} value={s}>
                {v.run.statuses[s]}
              </option>
            ))}
          </select>
          {status === "absent_excused" && (
            <>
              <label class="visually-hidden" for={`reason-${key}`}>
                {v.run.reasonFor(name)}
              </label>
              <select id={`reason-${key}`} value={reason} onChange={(e) => setReason(e.currentTarget.value)}>
                {Object.entries({ cong_tac: "Đi công tác", om: "Ốm đau", viec_gia_dinh: "Việc gia đình", other: "Lý do khác" }).map(
                  ([c, label]) => (
                    <option key={c} value={c}>
                      {label}
                    </option>
                  ),
                )}
              </select>
            </>
          )}
          <button type="submit" class="button secondary" disabled={busy}>
            {v.run.saveMark}
          </button>
        </form>
      )}
      {error !== null && <ErrorBox error={error} />}
    </li>
  );
}

export function Tallies({ meeting }: { meeting: Meeting }) {
  const tl = meeting.tallies;
  const q = meeting.quorum;
  if (!tl) return null;
  const rows: [string, string, number][] = [
    ["invited", v.run.invited, tl.invited],
    ["present", v.run.statuses.present, tl.present],
    ["late", v.run.statuses.late, tl.late],
    ["absent_excused", v.run.statuses.absent_excused, tl.absent_excused],
    ["absent_unexcused", v.run.statuses.absent_unexcused, tl.absent_unexcused],
    ["exempt", v.run.statuses.exempt, tl.exempt],
    ["guests_present", v.run.guests, tl.guests_present],
  ];
  return (
    <section class="card" aria-labelledby="tallies">
      <h2 id="tallies">{v.run.tallies}</h2>
      <dl class="facts">
        {rows.map(([key, label, value]) => (
          <Fragment key={key}>
            <dt>{label}</dt>
            <dd data-testid={`tally-${key}`}>{value}</dd>
          </Fragment>
        ))}
      </dl>
      {q && (
        <p class={q.met ? "quorum" : "quorum overdue"} data-testid="quorum">
          {v.run.quorum}: {q.met ? v.run.quorumMet(q.attended, q.base, q.required_ratio) : v.run.quorumNotMet(q.attended, q.base, q.required_ratio)}
        </p>
      )}
      <p>
        <a class="button" href={`/manage/cell/meetings/${meeting.id}/minutes`}>
          {v.run.toMinutes}
        </a>
      </p>
    </section>
  );
}

function Close({ meeting, onClosed }: { meeting: Meeting; onClosed: (m: Meeting) => void }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function close() {
    setBusy(true);
    setError(null);
    try {
      onClosed(await post<Meeting>(`/api/v1/meetings/${meeting.id}/close`));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="card" aria-labelledby="close-title">
      <h2 id="close-title">{v.run.close}</h2>
      {!asking ? (
        <button type="button" class="button" onClick={() => setAsking(true)}>
          {v.run.close}
        </button>
      ) : (
        <div class="stack">
          <p>{v.run.confirmClose}</p>
          <button type="button" class="button" disabled={busy} onClick={close}>
            {v.run.confirm}
          </button>
        </div>
      )}
      {error !== null && <ErrorBox error={error} />}
    </section>
  );
}

function Live({ initial, people }: { initial: Meeting; people: Map<string, CellMate> }) {
  const [m, setM] = useState(initial);
  const [error, setError] = useState<unknown>(null);
  // The polls revalidate with the last answer's ETag: an unchanged meeting comes back 304,
  // with nothing to send, parse or redraw.
  const tag = useRef<string | null>(null);
  const reload = async () => {
    try {
      const fresh = await getIfChanged<Meeting>(`/api/v1/meetings/${initial.id}`, tag);
      if (fresh !== null) setM(fresh);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    if (m.status !== "scheduled") return;
    const timer = window.setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [m.status]);
  const roster = (m.roster ?? []).slice().sort((a, b) => nameOf(people, a.member_id, a.label).localeCompare(nameOf(people, b.member_id, b.label), "vi"));
  const base = m.counts.invited - m.counts.exempt;
  return (
    <>
      {m.status === "scheduled" && <CheckinQr meetingId={m.id} />}
      {m.status === "closed" && <Tallies meeting={m} />}
      <section class="card" aria-labelledby="live">
        <h2 id="live">{v.run.live}</h2>
        <p aria-live="polite" data-testid="attended-now">
          <strong>{v.run.attendedNow(m.counts.attended, base)}</strong>
        </p>
        {m.status === "scheduled" && <p class="hint">{v.run.liveHint}</p>}
        {error !== null && <ErrorBox error={error} />}
        <ul class="list attendance">
          {roster.map((i) => (
            <MarkRow key={i.member_id} meeting={m} invitee={i} name={nameOf(people, i.member_id, i.label)} onMarked={reload} />
          ))}
        </ul>
      </section>
      {m.status !== "cancelled" && <Motions meetingId={m.id} running={m.status === "scheduled"} />}
      {m.status === "scheduled" && <Close meeting={m} onClosed={setM} />}
    </>
  );
}

export function RunMeeting({ id }: { id: string }) {
  const data = useAsync(() => Promise.all([get<Meeting>(`/api/v1/meetings/${id}`), cellMates()]), [id]);
  return (
    <Show state={data}>
      {([m, people]) => (
        <Screen title={`${v.run.title}: ${m.title}`}>
          <p>
            <a href={`/manage/cell/meetings/${m.id}`}>{v.back}</a>
          </p>
          <Live initial={m} people={people} />
        </Screen>
      )}
    </Show>
  );
}
