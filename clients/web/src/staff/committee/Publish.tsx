// Publishing down the committee's subtree: upload (progress shown as the bytes leave), then
// publish to the chosen orgs with or without required study; the documents published, with
// each publication's retraction; news for the org path.
import { useState } from "preact/hooks";
import { ApiError, get, post } from "../../api/client";
import type { Page } from "../../api/types";
import { ErrorBox, Show, useAsync } from "../../ui/common";
import { useLocation } from "../../ui/router";
import { Frame, currentOrg } from "./Reports";
import {
  formatValue,
  uploadWithProgress,
  type DocumentOut,
  type DocumentSummary,
  type NewsOut,
  type Org,
  type Publication,
} from "./api";
import { v } from "./vi";

/** A document the 409 duplicate-document answer points at (documents' problem extension). */
interface ExistingDocument {
  id: string;
  number: string | null;
  title: string;
  issuer: string | null;
  issued_on: string | null;
}

/** The org chosen in the navigator and its direct children: where something can be sent. */
export function useTargets(org: string) {
  return useAsync(async () => {
    if (!org) return [] as Org[];
    const [self, kids] = await Promise.all([
      get<Org>(`/api/v1/orgs/${org}`),
      get<Page<Org>>(`/api/v1/orgs/${org}/children`, { limit: 100 }),
    ]);
    return [self, ...kids.items];
  }, [org]);
}

function TargetChoice({ orgs, chosen, setChosen }: { orgs: Org[]; chosen: Set<string>; setChosen: (s: Set<string>) => void }) {
  return (
    <fieldset>
      <legend>{v.publish.targets}</legend>
      <p class="hint" id="targets-hint">
        {v.publish.targetsHint}
      </p>
      <div class="targets-grid">
        {orgs.map((o) => (
          <label class="check" key={o.id}>
            <input
              type="checkbox"
              name="org_ids"
              value={o.id}
              checked={chosen.has(o.id)}
              aria-describedby="targets-hint"
              onChange={(e) => {
                const next = new Set(chosen);
                if (e.currentTarget.checked) next.add(o.id);
                else next.delete(o.id);
                setChosen(next);
              }}
            />
            <span>
              {o.title} <small class="muted">({v.kinds[o.kind] ?? o.kind})</small>
            </span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/** A deadline typed as Vietnam's local time (the form's datetime-local) with its offset. */
export function vietnamTime(local: string): string {
  return `${local.length === 16 ? `${local}:00` : local}+07:00`;
}

export function PublishScreen() {
  useLocation(); // `?org=` may change while the path stays
  const org = currentOrg();
  const targets = useTargets(org);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [study, setStudy] = useState(false);
  const [progress, setProgress] = useState<number | null>(null);
  const [phase, setPhase] = useState<"idle" | "uploading" | "publishing" | "done">("idle");
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<{ doc: DocumentOut; pub: Publication } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  // The documents service answers 409 duplicate-document when the number and issuer match a
  // document the committee can see: show those, and upload anyway only when asked to.
  const [duplicates, setDuplicates] = useState<ExistingDocument[] | null>(null);
  const [uploadAnyway, setUploadAnyway] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setError(null);
    setProblem(null);
    const file = data.get("file");
    if (!(file instanceof File) || file.size === 0) return setProblem(v.publish.pickFile);
    if (chosen.size === 0) return setProblem(v.publish.pickTarget);
    const upload = new FormData();
    upload.set("file", file);
    for (const key of ["title", "kind", "number", "issuer", "issued_on", "summary", "tags", "classification"]) {
      const value = String(data.get(key) ?? "").trim();
      if (value) upload.set(key, value);
    }
    upload.set("org_id", org);
    if (duplicates && uploadAnyway) upload.set("confirm_duplicate", "true");
    try {
      setPhase("uploading");
      setProgress(0);
      const doc = await uploadWithProgress<DocumentOut>("/api/v1/documents", upload, setProgress);
      setPhase("publishing");
      const deadline = String(data.get("study_deadline") ?? "");
      const pub = await post<Publication>(`/api/v1/documents/${doc.id}/publish`, {
        org_ids: [...chosen],
        study_required: study,
        study_deadline: study && deadline ? vietnamTime(deadline) : null,
      });
      setResult({ doc, pub });
      setDuplicates(null);
      setUploadAnyway(false);
      setPhase("done");
      form.reset();
      setChosen(new Set());
      setStudy(false);
    } catch (e) {
      setPhase("idle");
      if (e instanceof ApiError && e.slug === "duplicate-document") {
        setDuplicates((e.problem as { existing?: ExistingDocument[] }).existing ?? []);
        setProgress(null);
        return;
      }
      setError(e);
    }
  }

  const busy = phase === "uploading" || phase === "publishing";
  return (
    <Frame title={v.actions.publish.title} org={org}>
      <form class="stack publish" onSubmit={submit}>
        <label for="file">{v.publish.file}</label>
        <input id="file" name="file" type="file" required aria-describedby="file-hint" accept=".pdf,.docx,.xlsx,.png,.jpg,.jpeg,.webp" />
        <p id="file-hint" class="hint">
          {v.publish.fileHint}
        </p>
        <label for="title">{v.publish.titleField}</label>
        <input id="title" name="title" required maxLength={500} />
        <div class="fields-2">
          <div class="stack">
            <label for="kind">{v.publish.kind}</label>
            <select id="kind" name="kind" required>
              {Object.entries(v.docKinds).map(([k, label]) => (
                <option key={k} value={k}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <div class="stack">
            <label for="number">{v.publish.number}</label>
            <input id="number" name="number" maxLength={100} placeholder={v.publish.numberHint} />
          </div>
          <div class="stack">
            <label for="issuer">{v.publish.issuer}</label>
            <input id="issuer" name="issuer" maxLength={300} />
          </div>
          <div class="stack">
            <label for="issued_on">{v.publish.issuedOn}</label>
            <input id="issued_on" name="issued_on" type="date" />
          </div>
        </div>
        <label for="summary">{v.publish.summary}</label>
        <textarea id="summary" name="summary" rows={3} maxLength={5000} />
        <label for="tags">{v.publish.tags}</label>
        <input id="tags" name="tags" />
        <label for="classification">{v.publish.classification}</label>
        <select id="classification" name="classification">
          <option value="internal">{v.publish.internal}</option>
          <option value="public">{v.publish.public}</option>
        </select>
        <Show state={targets}>{(orgs) => <TargetChoice orgs={orgs} chosen={chosen} setChosen={setChosen} />}</Show>
        <label class="check">
          <input type="checkbox" name="study_required" checked={study} onChange={(e) => setStudy(e.currentTarget.checked)} />
          <span>{v.publish.studyRequired}</span>
        </label>
        {study && (
          <>
            <label for="study_deadline">{v.publish.deadline}</label>
            <input id="study_deadline" name="study_deadline" type="datetime-local" />
          </>
        )}
        {problem && (
          <p class="problem" role="alert">
            {problem}
          </p>
        )}
        {error && <ErrorBox error={error} />}
        {duplicates && (
          <div class="problem" role="alert" data-testid="duplicate">
            <p class="problem-title">{v.publish.duplicate}</p>
            <ul>
              {duplicates.map((d) => (
                <li key={d.id}>
                  <p>
                    <a href={`/documents/${d.id}`}>
                      {d.number} — {d.title}
                    </a>{" "}
                    ({[d.issuer, d.issued_on].filter(Boolean).join(", ")})
                  </p>
                </li>
              ))}
            </ul>
            <label class="check">
              <input type="checkbox" checked={uploadAnyway} onChange={(e) => setUploadAnyway(e.currentTarget.checked)} />
              <span>{v.publish.uploadAnyway}</span>
            </label>
          </div>
        )}
        {progress !== null && phase !== "idle" && (
          <div class="upload-progress" role="status">
            <label for="upload-progress">{phase === "publishing" ? v.publish.publishing : v.publish.uploading(progress)}</label>
            <progress id="upload-progress" max={100} value={progress} aria-label={v.publish.progress}>
              {progress} %
            </progress>
          </div>
        )}
        <button type="submit" class="button" disabled={busy}>
          {v.publish.submit}
        </button>
      </form>
      {result && (
        <div class="card" role="status" data-testid="published">
          <p>
            <strong>{v.publish.done}</strong> {result.doc.title}
          </p>
          <p>{v.publish.audience(result.pub.audience_size)}</p>
          <p>
            <a href={`/manage/committee/documents?org=${org}&document_id=${result.doc.id}`}>{v.publish.open}</a>
          </p>
        </div>
      )}
    </Frame>
  );
}

function Publications({ id, title }: { id: string; title: string }) {
  const doc = useAsync(() => get<DocumentOut>(`/api/v1/documents/${id}`), [id]);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  async function retract(pub: Publication) {
    if (!window.confirm(v.documents.confirmRetract(title))) return;
    setError(null);
    try {
      await post(`/api/v1/documents/${id}/publications/${pub.id}/retract`, { reason_code: "other" });
      setNote(v.documents.retractedOk);
      doc.reload();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <Show state={doc}>
      {(d) => (
        <div>
          {error && <ErrorBox error={error} />}
          {note && <p role="status">{note}</p>}
          <ul class="plain pubs">
            {d.publications.map((p) => (
              <li key={p.id} data-publication={p.id}>
                <span>
                  {formatValue(p.published_at, "datetime")} · {v.documents.audience(p.audience_size)}
                  {p.study_required && ` · ${v.documents.study}`}
                  {p.study_deadline && ` (${v.documents.deadline} ${formatValue(p.study_deadline, "datetime")})`}
                </span>
                {p.retracted_at ? (
                  <strong>{v.documents.retracted}</strong>
                ) : (
                  <span class="inline">
                    <a class="button secondary" href={`/manage/committee/reach?document_id=${id}&publication_id=${p.id}`}>
                      {v.documents.reach}
                    </a>
                    {p.study_required && (
                      <a class="button secondary" href={`/manage/committee/quiz?document_id=${id}&version=${p.version}`}>
                        {v.documents.quiz}
                      </a>
                    )}
                    <button type="button" class="button secondary" onClick={() => void retract(p)}>
                      {v.documents.retract}
                    </button>
                  </span>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
    </Show>
  );
}

export function DocumentsScreen() {
  useLocation(); // `?org=` may change while the path stays
  const org = currentOrg();
  const wanted = new URL(location.href).searchParams.get("document_id");
  const docs = useAsync(() => get<Page<DocumentSummary>>("/api/v1/documents", { limit: 50 }), []);
  return (
    <Frame title={v.actions.documents.title} org={org}>
      <Show state={docs}>
        {(page) =>
          page.items.length === 0 ? (
            <p>{v.documents.empty}</p>
          ) : (
            <ul class="list docs">
              {page.items.map((d) => (
                <li key={d.id}>
                  <details open={d.id === wanted}>
                    <summary>
                      {[d.number, d.title].filter(Boolean).join(" · ")}
                    </summary>
                    <p class="muted">
                      {v.docKinds[d.kind] ?? d.kind}
                      {d.issuer && ` · ${d.issuer}`}
                      {d.issued_on && ` · ${formatValue(d.issued_on, "text")}`}
                    </p>
                    <h3>{v.documents.publications}</h3>
                    <Publications id={d.id} title={d.title} />
                  </details>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </Frame>
  );
}

export function NewsScreen() {
  useLocation(); // `?org=` may change while the path stays
  const org = currentOrg();
  const targets = useTargets(org);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<NewsOut | null>(null);
  const [to, setTo] = useState<string>("");
  async function submit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setError(null);
    try {
      const news = await post<NewsOut>("/api/v1/news", {
        title: String(data.get("title") ?? ""),
        body: String(data.get("body") ?? ""),
        org_ids: [to || org],
      });
      setDone(news);
      form.reset();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <Frame title={v.actions.news.title} org={org}>
      <form class="stack" onSubmit={submit}>
        <label for="news-title">{v.news.titleField}</label>
        <input id="news-title" name="title" required maxLength={300} />
        <label for="news-body">{v.news.body}</label>
        <textarea id="news-body" name="body" required rows={8} aria-describedby="news-body-hint" />
        <p id="news-body-hint" class="hint">
          {v.news.bodyHint}
        </p>
        <Show state={targets}>
          {(orgs) => (
            <>
              <label for="news-to">{v.news.to}</label>
              <select id="news-to" value={to || org} onChange={(e) => setTo(e.currentTarget.value)}>
                {orgs.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.title}
                  </option>
                ))}
              </select>
            </>
          )}
        </Show>
        {error && <ErrorBox error={error} />}
        <button type="submit" class="button">
          {v.news.submit}
        </button>
      </form>
      {done && (
        <p class="card" role="status">
          {v.news.done} <a href={`/news/${done.id}`}>{v.news.view}</a>
        </p>
      )}
    </Frame>
  );
}
