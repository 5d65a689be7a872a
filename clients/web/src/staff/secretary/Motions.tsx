// Votes in the meeting, run by the chair or secretary: put a motion to the vote (open or secret
// ballot), watch the phones' count, add the show of hands for members without a phone, close.
import { useState } from "preact/hooks";
import { get, post, put } from "../../api/client";
import type { components as Meetings } from "../../api/generated/meetings";
import { ErrorBox, useAsync, useInterval } from "../../ui/common";
import { v } from "./vi";

type Motion = Meetings["schemas"]["MotionOut"];
type MotionCreate = Meetings["schemas"]["MotionCreate"];

const POLL_MS = 4_000;

function NewMotion({ meetingId, onOpened }: { meetingId: string; onOpened: (m: Motion) => void }) {
  const [title, setTitle] = useState("");
  const [secret, setSecret] = useState(false);
  const [options, setOptions] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const named = options
      .split("\n")
      .map((o) => o.trim())
      .filter(Boolean);
    const body: MotionCreate = { title: title.trim(), secret, options: named.length ? named : null };
    try {
      onOpened(await post<Motion>(`/api/v1/meetings/${meetingId}/motions`, body));
      setTitle("");
      setOptions("");
      setSecret(false);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="stack" onSubmit={submit}>
      <h3>{v.motions.new}</h3>
      <label for="motion-title">{v.motions.subject}</label>
      <input id="motion-title" required maxLength={300} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      <label for="motion-options">{v.motions.options}</label>
      <textarea
        id="motion-options"
        rows={3}
        aria-describedby="motion-options-hint"
        value={options}
        onInput={(e) => setOptions(e.currentTarget.value)}
      />
      <p class="hint" id="motion-options-hint">
        {v.motions.optionsHint}
      </p>
      <label class="check">
        <input type="checkbox" checked={secret} onChange={(e) => setSecret(e.currentTarget.checked)} />
        {v.motions.secret}
      </label>
      {error !== null && <ErrorBox error={error} />}
      <button type="submit" class="button" disabled={busy}>
        {v.motions.open}
      </button>
    </form>
  );
}

function Hands({ meetingId, motion, onSaved }: { meetingId: string; motion: Motion; onSaved: (m: Motion) => void }) {
  const [counts, setCounts] = useState(motion.options.map((o) => o.hands ?? 0));
  const [message, setMessage] = useState("");
  const [error, setError] = useState<unknown>(null);
  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    setMessage("");
    try {
      onSaved(await put<Motion>(`/api/v1/meetings/${meetingId}/motions/${motion.id}/hands`, { counts }));
      setMessage(v.motions.handsSaved);
    } catch (e) {
      setError(e);
    }
  }
  return (
    <form class="stack" onSubmit={submit}>
      {motion.options.map((o, i) => (
        <div key={o.label} class="inline">
          <label for={`hands-${motion.id}-${i}`}>{v.motions.handsFor(o.label)}</label>
          <input
            id={`hands-${motion.id}-${i}`}
            type="number"
            inputMode="numeric"
            min={0}
            max={10000}
            value={counts[i]}
            onInput={(e) => {
              const next = counts.slice();
              next[i] = Math.max(0, Number(e.currentTarget.value) || 0);
              setCounts(next);
            }}
          />
        </div>
      ))}
      {error !== null && <ErrorBox error={error} />}
      <p role="status" class="status">
        {message}
      </p>
      <button type="submit" class="button secondary">
        {v.motions.saveHands}
      </button>
    </form>
  );
}

function MotionCard({ meetingId, motion, onChanged }: { meetingId: string; motion: Motion; onChanged: (m: Motion) => void }) {
  const [error, setError] = useState<unknown>(null);
  const hidden = motion.options.some((o) => o.total === null || o.total === undefined);
  async function close() {
    setError(null);
    try {
      onChanged(await post<Motion>(`/api/v1/meetings/${meetingId}/motions/${motion.id}/close`));
    } catch (e) {
      setError(e);
    }
  }
  return (
    <li class="motion" data-testid={`motion-${motion.number}`}>
      <h3>
        {motion.number}. {motion.title}{" "}
        <span class="meta">({motion.secret ? v.motions.secretBallot : v.motions.openBallot})</span>
      </h3>
      <p aria-live="polite" data-testid={`cast-${motion.number}`}>
        {motion.status === "closed" ? `${v.motions.closed}. ` : ""}
        {v.motions.cast(motion.ballots_cast, motion.present)}
      </p>
      {hidden ? (
        <p class="hint">{v.motions.hidden}</p>
      ) : (
        <table class="tally">
          <thead>
            <tr>
              <th scope="col">{v.motions.option}</th>
              <th scope="col">{v.motions.phones}</th>
              <th scope="col">{v.motions.hands}</th>
              <th scope="col">{v.motions.total}</th>
            </tr>
          </thead>
          <tbody>
            {motion.options.map((o, i) => (
              <tr key={o.label}>
                <th scope="row">{o.label}</th>
                <td>{o.votes}</td>
                <td>{o.hands}</td>
                <td data-testid={`total-${motion.number}-${i}`}>{o.total}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {motion.status === "open" && (
        <>
          <Hands meetingId={meetingId} motion={motion} onSaved={onChanged} />
          <button type="button" class="button" onClick={close}>
            {v.motions.close}
          </button>
        </>
      )}
      {error !== null && <ErrorBox error={error} />}
    </li>
  );
}

export function Motions({ meetingId, running }: { meetingId: string; running: boolean }) {
  const list = useAsync(() => get<Motion[]>(`/api/v1/meetings/${meetingId}/motions`), [meetingId]);
  const motions = list.data ?? null;
  const error = list.error;
  useInterval(list.reload, POLL_MS, (motions ?? []).some((m) => m.status === "open"));
  const replace = (m: Motion) =>
    list.set([...(list.data ?? []).filter((x) => x.id !== m.id), m].sort((a, b) => a.number - b.number));
  return (
    <section class="card" aria-labelledby="motions-title">
      <h2 id="motions-title">{v.motions.title}</h2>
      {error !== null && <ErrorBox error={error} />}
      {motions !== null && motions.length === 0 && <p>{v.motions.none}</p>}
      <ol class="list motions">
        {(motions ?? []).map((m) => (
          <MotionCard key={m.id} meetingId={meetingId} motion={m} onChanged={replace} />
        ))}
      </ol>
      {running && <NewMotion meetingId={meetingId} onOpened={replace} />}
    </section>
  );
}
