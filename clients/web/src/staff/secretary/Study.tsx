// A document sent to my cell: who has studied it and who has not.
import { useState } from "preact/hooks";
import { get, post } from "../../api/client";
import { ErrorBox, Screen, Show, useAsync } from "../../ui/common";
import { day } from "../../ui/format";
import { allPages, cellMates, nameOf, type DocumentDetail, type MemberStudy, type RemindOut, type StudyReport } from "./api";
import { useCell } from "./Cell";
import { v } from "./vi";

export function StudyScreen({ id }: { id: string }) {
  const cell = useCell();
  const data = useAsync(async () => {
    const [doc, people] = await Promise.all([get<DocumentDetail>(`/api/v1/documents/${id}`), cellMates()]);
    const first = await get<StudyReport>(`/api/v1/documents/${id}/reads`, { org_id: cell!.id, limit: 500 });
    const rows: MemberStudy[] = first.next_cursor
      ? await allPages<MemberStudy>(`/api/v1/documents/${id}/reads`, { org_id: cell!.id })
      : first.items;
    return { doc, people, totals: first.totals, quiz: first.quiz ?? false, rows };
  }, [id, cell?.id]);
  if (!cell) return <ErrorBox error={new Error(v.noCell)} />;
  return (
    <Show state={data}>
      {({ doc, people, totals, quiz, rows }) => {
        const studied = rows.filter((r) => r.status === "studied");
        const notYet = rows.filter((r) => r.status !== "studied");
        // The active required publication that reaches this cell (to it or to an org above it).
        const publication = (doc.publications ?? []).find(
          (p) => !p.retracted_at && p.study_required && p.org_paths.some((o) => cell.path === o || cell.path.startsWith(`${o}.`)),
        );
        return (
          <Screen title={v.studyScreen.title}>
            <p>
              <a href={`/manage/cell?org=${cell.id}`}>{v.back}</a>
            </p>
            <p>
              <strong>
                {doc.number ? `${doc.number} · ` : ""}
                {doc.title}
              </strong>
            </p>
            {publication?.study_deadline && (
              <p class="meta">
                {v.deadline}: {day(publication.study_deadline)}
              </p>
            )}
            <section class="card" aria-labelledby="totals">
              <h2 id="totals">{v.studyScreen.totals}</h2>
              <dl class="facts">
                <dt>{v.studyScreen.members}</dt>
                <dd data-testid="study-members">{totals.members}</dd>
                <dt>{v.studyScreen.statuses.studied}</dt>
                <dd data-testid="study-studied">{totals.studied}</dd>
                <dt>{v.studyScreen.statuses.opened}</dt>
                <dd>{totals.opened}</dd>
                <dt>{v.studyScreen.statuses.not_opened}</dt>
                <dd>{totals.not_opened}</dd>
                <dt>{v.studyScreen.statuses.overdue}</dt>
                <dd>{totals.overdue}</dd>
                {quiz && (
                  <>
                    <dt>{v.studyScreen.passed}</dt>
                    <dd data-testid="study-passed">{totals.passed ?? 0}</dd>
                  </>
                )}
              </dl>
            </section>
            {quiz && <QuizScores rows={rows} people={people} />}
            <section class="card" aria-labelledby="not-yet">
              <h2 id="not-yet">
                {v.studyScreen.notStudied} ({notYet.length})
              </h2>
              {publication && notYet.length > 0 && (
                <Remind documentId={doc.id} publicationId={publication.id} orgId={cell.id} />
              )}
              {notYet.length ? (
                <ul class="plain">
                  {notYet.map((r) => (
                    <li key={r.member_id}>
                      {nameOf(people, r.member_id)} — {v.studyScreen.statuses[r.status]}
                      {r.progress_percent > 0 && ` (${r.progress_percent}%)`}
                    </li>
                  ))}
                </ul>
              ) : (
                <p>{v.studyScreen.nobody}</p>
              )}
            </section>
            <section class="card" aria-labelledby="studied">
              <h2 id="studied">
                {v.studyScreen.studied} ({studied.length})
              </h2>
              <ul class="plain">
                {studied.map((r) => (
                  <li key={r.member_id}>
                    {nameOf(people, r.member_id)}
                    {r.studied_at && ` — ${day(r.studied_at)}`}
                  </li>
                ))}
              </ul>
            </section>
          </Screen>
        );
      }}
    </Show>
  );
}

/** The quiz's results in the cell: each member who took it, best score first. */
function QuizScores({ rows, people }: { rows: MemberStudy[]; people: Parameters<typeof nameOf>[0] }) {
  const tried = rows.filter((r) => (r.quiz_attempts ?? 0) > 0).sort((a, b) => (b.quiz_best_score ?? 0) - (a.quiz_best_score ?? 0));
  return (
    <section class="card" aria-labelledby="quiz-scores">
      <h2 id="quiz-scores">
        {v.studyScreen.quiz} ({tried.length})
      </h2>
      {tried.length ? (
        <ul class="plain" data-testid="quiz-scores">
          {tried.map((r) => (
            <li key={r.member_id}>
              {nameOf(people, r.member_id)} — {v.studyScreen.best(r.quiz_best_score ?? 0, r.quiz_attempts ?? 0)}
              {r.quiz_passed_at ? ` · ${v.studyScreen.passedMark}` : ""}
            </li>
          ))}
        </ul>
      ) : (
        <p>{v.studyScreen.noAttempts}</p>
      )}
    </section>
  );
}

function Remind({ documentId, publicationId, orgId }: { documentId: string; publicationId: string; orgId: string }) {
  const [message, setMessage] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function remind() {
    setBusy(true);
    setError(null);
    try {
      const answer = await post<RemindOut>(`/api/v1/documents/${documentId}/publications/${publicationId}/remind`, {
        org_id: orgId,
      });
      setMessage(answer.already_sent_today ? v.studyScreen.alreadyReminded : v.studyScreen.reminded(answer.pending));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="stack">
      <button type="button" class="button" disabled={busy} onClick={remind}>
        {v.studyScreen.remind}
      </button>
      <p role="status" class="status" data-testid="remind-status">
        {message}
      </p>
      {error !== null && <ErrorBox error={error} />}
    </div>
  );
}
