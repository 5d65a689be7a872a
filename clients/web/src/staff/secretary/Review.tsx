// The cell's year-end review meeting: the members' self-assessments, a secret grading vote per
// member opened in the review meeting (members vote from their phones, the chair closes it on
// the meeting's screen), and the cell's proposal sent up to the committee.
import { useState } from "preact/hooks";
import { get, post } from "../../api/client";
import type { CellReview, Motion, ReviewPeriod } from "../../api/types";
import { ErrorBox, Screen, Show, useAsync } from "../../ui/common";
import { when } from "../../ui/format";
import { ReviewTable, rv } from "../reviews";
import { allPages, monthOf, type MeetingSummary } from "./api";
import { useCell } from "./Cell";
import { v } from "./vi";

function within(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}.`);
}

async function meetingsNow(cellId: string): Promise<MeetingSummary[]> {
  const now = new Date();
  const found = await allPages<MeetingSummary>("/api/v1/meetings", { org_id: cellId, month: monthOf(now) });
  return found.filter((m) => m.status === "scheduled");
}

function CellPeriod({ period, cell }: { period: ReviewPeriod; cell: { id: string; title: string } }) {
  const review = useAsync(() => get<CellReview>(`/api/v1/reviews/${period.id}/cells/${cell.id}`), [period.id, cell.id]);
  const meetings = useAsync(() => meetingsNow(cell.id), [cell.id]);
  const [meetingId, setMeetingId] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const chosen = meetingId || meetings.data?.[0]?.id || "";

  async function act(run: () => Promise<void>) {
    setBusy(true);
    setError(null);
    setMessage("");
    try {
      await run();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const openVote = (memberId: string, name: string) =>
    act(async () => {
      await post<Motion>(`/api/v1/reviews/${period.id}/cells/${cell.id}/motions`, { meeting_id: chosen, member_id: memberId });
      setMessage(v.review.voteOpened(name));
      review.reload();
    });
  const propose = () =>
    act(async () => {
      review.set(await post<CellReview>(`/api/v1/reviews/${period.id}/cells/${cell.id}/proposal`));
      setMessage(v.review.proposed);
    });

  return (
    <section aria-labelledby={`period-${period.id}`} class="card">
      <h2 id={`period-${period.id}`}>{rv.periodTitle(period.year, period.org_title)}</h2>
      <p class="meta">{v.review.deadline(when(period.self_deadline))}</p>
      <Show state={meetings}>
        {(list) =>
          list.length === 0 ? (
            <p>{v.review.noMeeting}</p>
          ) : (
            <div class="stack">
              <label for={`meeting-${period.id}`}>{v.review.meeting}</label>
              <select id={`meeting-${period.id}`} value={chosen} onChange={(e) => setMeetingId(e.currentTarget.value)}>
                {list.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.title} — {when(m.starts_at.utc)}
                  </option>
                ))}
              </select>
              <p>
                <a href={`/manage/cell/meetings/${chosen}/run`}>{v.review.runMeeting}</a>
              </p>
            </div>
          )
        }
      </Show>
      {error !== null && <ErrorBox error={error} />}
      {message && <p role="status">{message}</p>}
      <Show state={review}>
        {(r) => (
          <>
            <ReviewTable
              review={r}
              action={(m) => {
                const name = m.full_name ?? "";
                if (m.proposed_grade || !chosen || !r.can_propose) return null;
                return (
                  <button type="button" class="button secondary" disabled={busy} onClick={() => openVote(m.member_id, name)} aria-label={v.review.voteFor(name)}>
                    {m.motion_id ? v.review.voteAgain : v.review.vote}
                  </button>
                );
              }}
            />
            <p class="meta">{rv.quota(r.proposed)}</p>
            {r.can_propose && (
              <button type="button" class="button" disabled={busy} onClick={propose}>
                {v.review.propose}
              </button>
            )}
          </>
        )}
      </Show>
    </section>
  );
}

export function ReviewScreen() {
  const cell = useCell();
  const periods = useAsync(() => get<ReviewPeriod[]>("/api/v1/reviews"), []);
  return (
    <Screen title={v.review.title}>
      <p>
        <a href="/manage/cell">{v.back}</a>
      </p>
      {!cell ? (
        <p>{v.noCell}</p>
      ) : (
        <Show state={periods}>
          {(list) => {
            const mine = list.filter((p) => within(cell.path, p.org_path));
            return mine.length === 0 ? <p>{rv.noPeriods}</p> : mine.map((p) => <CellPeriod key={p.id} period={p} cell={cell} />);
          }}
        </Show>
      )}
    </Screen>
  );
}
