// A document version's study quiz for its committee: the quiz as it stands (with its answer
// key: this screen is the author's), a CSV upload to set or replace it until the first attempt,
// and the results in the chosen org — how many passed, each member's best score.
import { useState } from "preact/hooks";
import { ApiError, get } from "../../api/client";
import { ErrorBox, Show, useAsync } from "../../ui/common";
import { useLocation } from "../../ui/router";
import { Frame, currentOrg } from "./Reports";
import { formatValue, uploadWithProgress, type DocumentOut, type QuizKey, type StudyReport } from "./api";
import { v } from "./vi";

const LETTERS = "ABCDEF";
const TEMPLATE =
  "\ufeffcâu hỏi,phương án A,phương án B,phương án C,phương án D,đáp án\r\n" +
  "Nghị quyết xác định nhiệm vụ trọng tâm nào?,Xây dựng tổ chức cơ sở đảng,Phát triển du lịch,Cải cách tiền lương,,A\r\n";

interface BadRow {
  line: number;
  message: string;
}

/** The quiz with its key; null when the version has none, "forbidden" for a non-author. */
async function loadKey(id: string, version: string): Promise<QuizKey | null | "forbidden"> {
  try {
    return await get<QuizKey>(`/api/v1/documents/${id}/quiz/key`, { version: version || undefined });
  } catch (e) {
    if (e instanceof ApiError && e.slug === "quiz-not-found") return null;
    if (e instanceof ApiError && e.status === 403) return "forbidden";
    throw e;
  }
}

function Upload({ id, version, replacing, onSaved }: { id: string; version: string; replacing: boolean; onSaved: (q: QuizKey) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [rows, setRows] = useState<BadRow[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setError(null);
    setRows([]);
    setProblem(null);
    const file = data.get("file");
    if (!(file instanceof File) || file.size === 0) return setProblem(v.quiz.pickFile);
    const upload = new FormData();
    upload.set("file", file);
    upload.set("pass_percent", String(data.get("pass_percent") ?? "80"));
    if (version) upload.set("version", version);
    setBusy(true);
    try {
      onSaved(await uploadWithProgress<QuizKey>(`/api/v1/documents/${id}/quiz/csv`, upload, () => {}, "PUT"));
      form.reset();
    } catch (e) {
      setError(e);
      if (e instanceof ApiError) setRows(((e.problem as { errors?: BadRow[] }).errors ?? []).filter((r) => typeof r.line === "number"));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="stack" onSubmit={submit} aria-labelledby="quiz-upload">
      <h2 id="quiz-upload">{v.quiz.upload}</h2>
      <label for="quiz-file">{v.quiz.file}</label>
      <input id="quiz-file" name="file" type="file" accept=".csv,text/csv" required aria-describedby="quiz-file-hint" />
      <p id="quiz-file-hint" class="hint">
        {v.quiz.fileHint}{" "}
        <a href={`data:text/csv;charset=utf-8,${encodeURIComponent(TEMPLATE)}`} download="bai-kiem-tra-mau.csv">
          {v.quiz.template}
        </a>
      </p>
      <label for="pass_percent">{v.quiz.passPercent}</label>
      <input id="pass_percent" name="pass_percent" type="number" min={1} max={100} defaultValue="80" required inputMode="numeric" />
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      {error !== null && <ErrorBox error={error} />}
      {rows.length > 0 && (
        <div class="problem" data-testid="quiz-bad-rows">
          <p class="problem-title">{v.quiz.badRows}</p>
          <ul>
            {rows.map((r) => (
              <li key={r.line}>
                {v.quiz.line(r.line)}: {r.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <button type="submit" class="button" disabled={busy}>
        {busy ? v.quiz.saving : replacing ? v.quiz.replace : v.quiz.submit}
      </button>
    </form>
  );
}

function Current({ quiz }: { quiz: QuizKey }) {
  return (
    <section class="card" aria-labelledby="quiz-current">
      <h2 id="quiz-current">{v.quiz.current(quiz.questions.length, quiz.pass_percent)}</h2>
      <ol class="quiz-key">
        {quiz.questions.map((q, i) => (
          <li key={i}>
            <p>{q.text}</p>
            <ul class="plain">
              {q.choices.map((c, j) => (
                <li key={j}>
                  {LETTERS[j]}. {c}
                  {j === q.correct && <strong> — {v.quiz.correct}</strong>}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
      {quiz.attempted && <p class="muted">{v.quiz.locked}</p>}
    </section>
  );
}

function Results({ id, version, org }: { id: string; version: number; org: string }) {
  const report = useAsync(
    () => get<StudyReport>(`/api/v1/documents/${id}/reads`, { org_id: org, version, limit: 500 }),
    [id, version, org],
  );
  return (
    <section class="card" aria-labelledby="quiz-results">
      <h2 id="quiz-results">{v.quiz.results}</h2>
      <Show state={report}>
        {(r) => {
          const tried = r.items.filter((m) => (m.quiz_attempts ?? 0) > 0);
          return (
            <>
              <dl class="facts">
                <dt>{v.quiz.members}</dt>
                <dd>{formatValue(r.totals.members, "int")}</dd>
                <dt>{v.quiz.attempted}</dt>
                <dd data-testid="quiz-attempted">{formatValue(tried.length, "int")}</dd>
                <dt>{v.quiz.passed}</dt>
                <dd data-testid="quiz-passed">{formatValue(r.totals.passed ?? 0, "int")}</dd>
              </dl>
              {tried.length === 0 ? (
                <p>{v.quiz.noAttempts}</p>
              ) : (
                <div class="table-wrap" tabIndex={0} role="region" aria-label={v.quiz.results}>
                  <table class="report" data-testid="quiz-scores">
                    <thead>
                      <tr>
                        <th scope="col">{v.quiz.member}</th>
                        <th scope="col" class="num">
                          {v.quiz.best}
                        </th>
                        <th scope="col" class="num">
                          {v.quiz.attempts}
                        </th>
                        <th scope="col">{v.quiz.passedAt}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {tried.map((m) => (
                        <tr key={m.member_id}>
                          <th scope="row">{m.full_name ?? m.card_number ?? m.member_id}</th>
                          <td class="num">{m.quiz_best_score ?? 0}%</td>
                          <td class="num">{m.quiz_attempts}</td>
                          <td>{formatValue(m.quiz_passed_at, "datetime")}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </>
          );
        }}
      </Show>
    </section>
  );
}

export function QuizScreen() {
  useLocation(); // `?org=` may change while the path stays
  const org = currentOrg();
  const params = new URL(location.href).searchParams;
  const id = params.get("document_id") ?? "";
  const version = params.get("version") ?? "";
  const doc = useAsync(() => get<DocumentOut>(`/api/v1/documents/${id}`), [id]);
  const key = useAsync(() => loadKey(id, version), [id, version]);
  const [saved, setSaved] = useState<string | null>(null);
  return (
    <Frame title={v.quiz.title} org={org}>
      <Show state={doc}>
        {(d) => {
          const number = Number(version) || d.current_version;
          return (
            <>
              <p>
                <strong>{[d.number, d.title].filter(Boolean).join(" · ")}</strong> — {v.quiz.version(number)}
              </p>
              <Show state={key}>
                {(quiz) => (
                  <>
                    {saved && (
                      <p role="status" class="card">
                        {saved}
                      </p>
                    )}
                    {quiz === "forbidden" ? <p>{v.quiz.notOwner}</p> : quiz === null ? <p>{v.quiz.none}</p> : <Current quiz={quiz} />}
                    {quiz !== "forbidden" && !(quiz && quiz.attempted) && (
                      <Upload
                        id={id}
                        version={String(number)}
                        replacing={quiz !== null}
                        onSaved={(q) => {
                          key.set(q);
                          setSaved(v.quiz.saved(q.questions.length));
                        }}
                      />
                    )}
                  </>
                )}
              </Show>
              {org && <Results id={id} version={number} org={org} />}
            </>
          );
        }}
      </Show>
    </Frame>
  );
}
