// A member's votes in a meeting they are present at: each open motion to answer once, the
// results of the closed ones. Sent straight to the server, never queued offline: a vote counts
// only while its motion is open.
import { useState } from "preact/hooks";
import { get, post } from "../api/client";
import type { Motion } from "../api/types";
import { t } from "../i18n/vi";
import { ErrorBox, useAsync, useInterval } from "../ui/common";

const POLL_MS = 5_000;

function Results({ motion }: { motion: Motion }) {
  return (
    <>
      <p class="meta">
        {t.meetings.results}: {t.meetings.ballots(motion.options.reduce((n, o) => n + (o.total ?? 0), 0), motion.present)}
      </p>
      <ul class="results" data-testid={`results-${motion.number}`}>
        {motion.options.map((o) => (
          <li key={o.label}>
            {o.label}: <strong>{o.total}</strong>
          </li>
        ))}
      </ul>
    </>
  );
}

function Ballot({ meetingId, motion, onVoted }: { meetingId: string; motion: Motion; onVoted: (m: Motion) => void }) {
  const [choice, setChoice] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const name = `motion-${motion.id}`;
  async function submit(event: Event) {
    event.preventDefault();
    if (choice === null) return;
    setBusy(true);
    setError(null);
    try {
      onVoted(await post<Motion>(`/api/v1/meetings/${meetingId}/motions/${motion.id}/votes`, { choice }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="stack" onSubmit={submit}>
      <fieldset>
        <legend>{t.meetings.choose}</legend>
        {motion.options.map((o, i) => (
          <label class="check" key={o.label}>
            <input type="radio" name={name} value={i} required checked={choice === i} onChange={() => setChoice(i)} />
            {o.label}
          </label>
        ))}
      </fieldset>
      {error !== null && <ErrorBox error={error} />}
      <button type="submit" class="button" disabled={busy || choice === null}>
        {t.meetings.sendVote}
      </button>
    </form>
  );
}

export function Votes({ meetingId, running }: { meetingId: string; running: boolean }) {
  const list = useAsync(() => get<Motion[]>(`/api/v1/meetings/${meetingId}/motions`), [meetingId]);
  useInterval(list.reload, POLL_MS, running);
  const motions = list.data ?? null;
  const error = list.error;
  const replace = (m: Motion) => list.set((list.data ?? []).map((x) => (x.id === m.id ? m : x)));
  return (
    <section aria-labelledby="votes" class="card">
      <h2 id="votes">{t.meetings.votes}</h2>
      {error !== null && <ErrorBox error={error} onRetry={list.reload} />}
      {motions !== null && motions.length === 0 && <p>{t.meetings.noMotions}</p>}
      <ol class="list motions">
        {(motions ?? []).map((m) => (
            <li key={m.id} class="motion">
              <h3>
                {m.title} <span class="meta">({m.secret ? t.meetings.secretBallot : t.meetings.openBallot})</span>
              </h3>
              {m.status === "closed" ? (
                <Results motion={m} />
              ) : m.voted ? (
                <p role="status">
                  {m.secret ? t.meetings.votedSecret : t.meetings.myChoice(m.options[m.my_vote ?? 0]?.label ?? "")}
                </p>
              ) : (
                <Ballot meetingId={meetingId} motion={m} onVoted={replace} />
              )}
            </li>
        ))}
      </ol>
    </section>
  );
}
