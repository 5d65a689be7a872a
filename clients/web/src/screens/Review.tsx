// The member's year-end review (kiểm điểm, đánh giá, xếp loại): the self-assessment and the grade
// they propose, editable until the deadline and until the cell has proposed; then the cell's
// proposal and the committee's decision. Sent straight to the server (a deadline applies).
import { useState } from "preact/hooks";
import { get, put } from "../api/client";
import type { Grade, MyReview } from "../api/types";
import { t } from "../i18n/vi";
import { ErrorBox, Screen, Show, useAsync } from "../ui/common";
import { when } from "../ui/format";

const GRADES: Grade[] = ["xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh"];

function SelfAssessment({ review, onSaved }: { review: MyReview; onSaved: (r: MyReview) => void }) {
  const id = review.period.id;
  const [text, setText] = useState(review.assessment ?? "");
  const [grade, setGrade] = useState<Grade | null>(review.self_grade ?? null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    if (grade === null) return;
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      onSaved(await put<MyReview>(`/api/v1/reviews/${id}/self-assessment`, { assessment: text, grade }));
      setSaved(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="stack" onSubmit={submit}>
      <label for={`assessment-${id}`}>{t.review.assessment}</label>
      <p class="hint" id={`assessment-hint-${id}`}>
        {t.review.assessmentHint}
      </p>
      <textarea
        id={`assessment-${id}`}
        rows={8}
        maxLength={8000}
        required
        aria-describedby={`assessment-hint-${id}`}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <fieldset>
        <legend>{t.review.selfGrade}</legend>
        {GRADES.map((g) => (
          <label class="check" key={g}>
            <input type="radio" name={`grade-${id}`} value={g} required checked={grade === g} onChange={() => setGrade(g)} />
            {t.review.grades[g]}
          </label>
        ))}
      </fieldset>
      {error !== null && <ErrorBox error={error} />}
      {saved && <p role="status">{t.review.saved}</p>}
      <button type="submit" class="button" disabled={busy || grade === null || !text.trim()}>
        {t.review.submit}
      </button>
    </form>
  );
}

function Outcome({ review }: { review: MyReview }) {
  const grade = (g: Grade | null | undefined) => (g ? t.review.grades[g] : t.review.pending);
  return (
    <dl class="facts">
      <dt>{t.review.selfGrade}</dt>
      <dd>{grade(review.self_grade)}</dd>
      <dt>{t.review.cellGrade}</dt>
      <dd>{grade(review.cell_grade)}</dd>
      <dt>{t.review.finalGrade}</dt>
      <dd>{grade(review.final_grade)}</dd>
      {review.final_reason && (
        <>
          <dt>{t.review.reason}</dt>
          <dd>{review.final_reason}</dd>
        </>
      )}
    </dl>
  );
}

export function Review() {
  const reviews = useAsync(() => get<MyReview[]>("/api/v1/reviews/mine"), []);
  const replace = (r: MyReview) => reviews.set((reviews.data ?? []).map((x) => (x.period.id === r.period.id ? r : x)));
  return (
    <Screen title={t.review.title}>
      <Show state={reviews}>
        {(list) =>
          list.length === 0 ? (
            <p>{t.review.none}</p>
          ) : (
            list.map((r) => (
              <section key={r.period.id} aria-labelledby={`period-${r.period.id}`} class="card">
                <h2 id={`period-${r.period.id}`}>{t.review.period(r.period.year, r.period.org_title ?? "")}</h2>
                <p class="meta">{t.review.deadline(when(r.period.self_deadline))}</p>
                <p>{r.submitted_at ? t.review.submitted(when(r.submitted_at)) : t.review.notSubmitted}</p>
                {r.editable ? <SelfAssessment review={r} onSaved={replace} /> : r.assessment && <p class="prose">{r.assessment}</p>}
                <Outcome review={r} />
              </section>
            ))
          )
        }
      </Show>
    </Screen>
  );
}
