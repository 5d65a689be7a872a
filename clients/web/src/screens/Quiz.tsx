// The study quiz under a document's text: questions as radio groups, the score, retry, the best
// score. Right or wrong per question only after a pass (the API gives no marks for a failed
// attempt: with unlimited retries they would give the key away), never the right choice.
// Online only: offline the reading screen shows the text, and a note where the version has a quiz.
import { useState } from "preact/hooks";
import { ApiError, NetworkError, get, post } from "../api/client";
import type { ProgressIn, Quiz, QuizAttempt, QuizAttemptIn } from "../api/types";
import { t } from "../i18n/vi";
import { recall, remember } from "../offline/store";
import { ErrorBox, useAsync } from "../ui/common";

/** The quiz (null: the version has none). Offline, "offline" when this member last saw that
 *  the version has one (only that fact is kept on the device, never the questions). */
async function loadQuiz(documentId: string, version: number): Promise<Quiz | null | "offline"> {
  const known = `quiz ${documentId} ${version}`;
  try {
    const quiz = await get<Quiz>(`/api/v1/documents/${documentId}/quiz`, { version });
    void remember(known, true);
    return quiz;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      void remember(known, false);
      return null;
    }
    if (e instanceof NetworkError) return (await recall<boolean>(known)) ? "offline" : null;
    throw e;
  }
}

export function QuizSection({ documentId, version }: { documentId: string; version: number }) {
  const quiz = useAsync(() => loadQuiz(documentId, version), [documentId, version]);
  const [answers, setAnswers] = useState<(number | null)[]>([]);
  const [result, setResult] = useState<QuizAttempt | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [tried, setTried] = useState(false);

  if (quiz.error) return <ErrorBox error={quiz.error} onRetry={quiz.reload} />;
  const q = quiz.data;
  if (q === undefined || q === null) return null;
  if (q === "offline") {
    return (
      <section class="card quiz" aria-labelledby="quiz-title">
        <h2 id="quiz-title">{t.quiz.title}</h2>
        <p>{t.quiz.offline}</p>
      </section>
    );
  }
  const chosen = q.questions.map((_, i) => answers[i] ?? null);
  const left = chosen.filter((a) => a === null).length;
  const mine = result?.mine ?? q.mine;

  async function submit(event: Event) {
    event.preventDefault();
    setTried(true);
    if (q === null || q === undefined || q === "offline" || left > 0) return;
    setBusy(true);
    setError(null);
    try {
      // On this screen the document is open: say so first when no progress was sent yet.
      if (!q.opened) {
        const opened: ProgressIn = { version, progress_percent: 0, studied: false };
        await post(`/api/v1/documents/${documentId}/reads`, opened);
      }
      const body: QuizAttemptIn = { version, answers: chosen as number[] };
      setResult(await post<QuizAttempt>(`/api/v1/documents/${documentId}/quiz/attempts`, body));
      document.getElementById("quiz-result")?.focus();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  function retry() {
    setResult(null);
    setAnswers([]);
    setTried(false);
    window.setTimeout(() => document.getElementById("quiz-q-0")?.focus(), 0);
  }

  return (
    <section class="card quiz" aria-labelledby="quiz-title">
      <h2 id="quiz-title">{t.quiz.title}</h2>
      <p>{t.quiz.intro(q.questions.length, q.pass_percent)}</p>
      {mine.attempts > 0 && (
        <p class="meta" data-testid="quiz-best">
          {mine.passed ? `${t.quiz.passed} ` : ""}
          {t.quiz.best(mine.best_score ?? 0, mine.attempts)}
        </p>
      )}
      {result ? (
        <div class="stack">
          <div id="quiz-result" tabIndex={-1} role="status" class={result.passed ? "quiz-pass" : "quiz-fail"}>
            <p>
              <strong>{t.quiz.result(result.score)}</strong>
            </p>
            <p>{result.passed ? t.quiz.passedNow : t.quiz.notPassed(q.pass_percent)}</p>
          </div>
          {result.passed && result.correct && (
            <ol class="quiz-marks">
              {q.questions.map((question, i) => (
                <li key={i}>
                  <span>{question.text}</span>{" "}
                  <strong class={result.correct?.[i] ? "mark-right" : "mark-wrong"}>
                    {result.correct?.[i] ? `✓ ${t.quiz.right}` : `✗ ${t.quiz.wrong}`}
                  </strong>
                </li>
              ))}
            </ol>
          )}
          <button type="button" class="button" onClick={retry}>
            {t.quiz.retry}
          </button>
        </div>
      ) : (
        <form class="stack" onSubmit={submit} noValidate>
          {q.questions.map((question, i) => (
            <fieldset key={i} id={`quiz-q-${i}`} tabIndex={-1} aria-invalid={tried && chosen[i] === null ? "true" : undefined}>
              <legend>{t.quiz.question(i + 1, question.text)}</legend>
              {question.choices.map((choice, j) => (
                <label class="check" key={j}>
                  <input
                    type="radio"
                    name={`quiz-${i}`}
                    value={j}
                    checked={chosen[i] === j}
                    onChange={() => setAnswers(chosen.map((a, k) => (k === i ? j : a)))}
                  />
                  {choice}
                </label>
              ))}
            </fieldset>
          ))}
          {tried && left > 0 && (
            <p class="problem" role="alert">
              {t.quiz.answerAll(left)}
            </p>
          )}
          {error !== null && <ErrorBox error={error} />}
          <button type="submit" class="button" disabled={busy}>
            {busy ? t.quiz.sending : t.quiz.submit}
          </button>
        </form>
      )}
    </section>
  );
}
