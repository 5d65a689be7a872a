// Consultation on drafts, the committee's side: open a consultation on an uploaded document for
// an org subtree with a deadline; see the comments by section or by cell, with who wrote them
// (only the consulting committee sees names); reply and record a disposition; export the
// summary (XLSX, DOCX) and close it.
import { useState } from "preact/hooks";
import { get, post, put } from "../../api/client";
import type { Page } from "../../api/types";
import { ErrorBox, Show, useAsync } from "../../ui/common";
import { useLocation } from "../../ui/router";
import { useTargets, vietnamTime } from "./Publish";
import { Frame, currentOrg } from "./Reports";
import {
  downloadFile,
  formatValue,
  type Consultation,
  type ConsultationComment,
  type ConsultationSummary,
  type DocumentSummary,
} from "./api";
import { v } from "./vi";

const BASE = "/api/v1/documents/consultations";
const c = v.consult;

function OpenForm({ org, onOpened }: { org: string; onOpened: (x: Consultation) => void }) {
  const targets = useTargets(org);
  const docs = useAsync(() => get<Page<DocumentSummary>>("/api/v1/documents", { limit: 50 }), []);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setError(null);
    setBusy(true);
    try {
      const purpose = String(data.get("purpose") ?? "").trim();
      const opened = await post<Consultation>(BASE, {
        document_id: String(data.get("document_id")),
        org_id: String(data.get("org_id") || org),
        title: String(data.get("title") ?? ""),
        purpose: purpose || null,
        deadline: vietnamTime(String(data.get("deadline") ?? "")),
      });
      form.reset();
      onOpened(opened);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="card" aria-labelledby="open-consultation">
      <h2 id="open-consultation">{c.open}</h2>
      <Show state={docs}>
        {(page) =>
          page.items.length === 0 ? (
            <p>{c.noDocuments}</p>
          ) : (
            <form class="stack" onSubmit={submit}>
              <label for="consult-document">{c.document}</label>
              <select id="consult-document" name="document_id" required>
                {page.items.map((d) => (
                  <option key={d.id} value={d.id}>
                    {[d.number, d.title].filter(Boolean).join(" · ")}
                  </option>
                ))}
              </select>
              <label for="consult-title">{c.titleField}</label>
              <input id="consult-title" name="title" required maxLength={300} />
              <label for="consult-purpose">{c.purpose}</label>
              <textarea id="consult-purpose" name="purpose" rows={3} maxLength={2000} />
              <Show state={targets}>
                {(orgs) => (
                  <>
                    <label for="consult-org">{c.org}</label>
                    <select id="consult-org" name="org_id">
                      {orgs.map((o) => (
                        <option key={o.id} value={o.id}>
                          {o.title}
                        </option>
                      ))}
                    </select>
                  </>
                )}
              </Show>
              <label for="consult-deadline">{c.deadline}</label>
              <input id="consult-deadline" name="deadline" type="datetime-local" required />
              {error !== null && <ErrorBox error={error} />}
              <button type="submit" class="button" disabled={busy}>
                {c.submit}
              </button>
            </form>
          )
        }
      </Show>
    </section>
  );
}

export function ConsultationsScreen() {
  useLocation(); // `?org=` may change while the path stays
  const org = currentOrg();
  const list = useAsync(async () => (await get<Consultation[]>(BASE)).filter((x) => x.can_manage), []);
  const [opened, setOpened] = useState<Consultation | null>(null);
  return (
    <Frame title={v.actions.consultations.title} org={org}>
      <OpenForm
        org={org}
        onOpened={(x) => {
          setOpened(x);
          list.reload();
        }}
      />
      {opened && (
        <p class="card" role="status">
          {c.opened} <a href={`/manage/committee/consultations/${opened.id}`}>{opened.title}</a>
        </p>
      )}
      <section aria-labelledby="consultation-list">
        <h2 id="consultation-list">{c.list}</h2>
        <Show state={list}>
          {(items) =>
            items.length === 0 ? (
              <p>{c.none}</p>
            ) : (
              <ul class="list">
                {items.map((x) => (
                  <li key={x.id}>
                    <a class="row-link" href={`/manage/committee/consultations/${x.id}`}>
                      <strong>{x.title}</strong>
                      <span>
                        {x.org_title} · {c.status[x.status]} · {c.deadlineOn(formatValue(x.deadline, "datetime"))}
                      </span>
                      <small>{c.counts(x.comments ?? 0)}</small>
                    </a>
                  </li>
                ))}
              </ul>
            )
          }
        </Show>
      </section>
    </Frame>
  );
}

function Respond({ id, k, onSaved }: { id: string; k: ConsultationComment; onSaved: (k: ConsultationComment) => void }) {
  const [reply, setReply] = useState(k.reply ?? "");
  const [disposition, setDisposition] = useState<string>(k.disposition);
  const [reason, setReason] = useState(k.disposition_reason ?? "");
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    setNote(null);
    try {
      const saved = await put<ConsultationComment>(`${BASE}/${id}/comments/${k.id}/response`, {
        reply: reply.trim() || null,
        disposition,
        reason: disposition === "rejected" ? reason : null,
      });
      setNote(c.saved);
      onSaved(saved);
    } catch (e) {
      setError(e);
    }
  }
  const p = `r-${k.id}`;
  return (
    <form class="stack" onSubmit={submit}>
      <label for={`${p}-reply`}>{c.reply}</label>
      <textarea id={`${p}-reply`} rows={2} maxLength={4000} value={reply} onInput={(e) => setReply(e.currentTarget.value)} />
      <fieldset>
        <legend>{c.disposition}</legend>
        <div class="inline">
          {["pending", "accepted", "rejected"].map((d) => (
            <label class="check" key={d}>
              <input type="radio" name={`${p}-d`} value={d} checked={disposition === d} onChange={() => setDisposition(d)} />
              {c.dispositionNames[d]}
            </label>
          ))}
        </div>
      </fieldset>
      {disposition === "rejected" && (
        <>
          <label for={`${p}-reason`}>{c.reason}</label>
          <input id={`${p}-reason`} required maxLength={1000} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </>
      )}
      {error !== null && <ErrorBox error={error} />}
      {note && <p role="status">{note}</p>}
      <button type="submit" class="button secondary">
        {c.save}
      </button>
    </form>
  );
}

function CommentItem({ id, k, onSaved }: { id: string; k: ConsultationComment; onSaved: (k: ConsultationComment) => void }) {
  return (
    <li class="comment" data-comment={k.id}>
      <p>
        <strong>{c.author(k.author_name, k.card_number)}</strong>
        <span class="muted"> · {k.cell_title} · {formatValue(k.updated_at, "datetime")}</span>
      </p>
      <p class="comment-text">{k.text}</p>
      <p class="muted">
        {c.disposition}: {c.dispositionNames[k.disposition]}
      </p>
      <Respond id={id} k={k} onSaved={onSaved} />
    </li>
  );
}

function Groups({
  id,
  consultation,
  comments,
  view,
  onSaved,
}: {
  id: string;
  consultation: Consultation;
  comments: ConsultationComment[];
  view: "section" | "org";
  onSaved: (k: ConsultationComment) => void;
}) {
  const groups: { key: string; title: string; items: ConsultationComment[] }[] = [];
  if (view === "section") {
    groups.push({ key: "whole", title: c.whole, items: comments.filter((k) => k.section === null) });
    for (const s of consultation.sections) {
      groups.push({ key: s.anchor, title: s.title, items: comments.filter((k) => k.section === s.anchor) });
    }
  } else {
    const cells = new Map<string, string>();
    for (const k of comments) cells.set(k.cell_id, k.cell_title ?? k.cell_id);
    for (const [cell, title] of cells) groups.push({ key: cell, title, items: comments.filter((k) => k.cell_id === cell) });
  }
  const shown = groups.filter((g) => g.items.length > 0);
  if (shown.length === 0) return <p>{c.noComments}</p>;
  return (
    <>
      {shown.map((g) => (
        <section key={g.key} class="card" aria-labelledby={`g-${g.key}`} data-group={g.key}>
          <h3 id={`g-${g.key}`}>
            {g.title} <span class="muted">({c.counts(g.items.length)})</span>
          </h3>
          <ul class="list comments">
            {g.items.map((k) => (
              <CommentItem key={k.id} id={id} k={k} onSaved={onSaved} />
            ))}
          </ul>
        </section>
      ))}
    </>
  );
}

export function ConsultationBoard({ id }: { id: string }) {
  useLocation();
  const org = currentOrg();
  const consultation = useAsync(() => get<Consultation>(`${BASE}/${id}`), [id]);
  const summary = useAsync(() => get<ConsultationSummary>(`${BASE}/${id}/summary`), [id]);
  const comments = useAsync(() => get<ConsultationComment[]>(`${BASE}/${id}/comments`), [id]);
  const [view, setView] = useState<"section" | "org">("section");
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const saved = (k: ConsultationComment) => {
    comments.set((comments.data ?? []).map((x) => (x.id === k.id ? k : x)));
    summary.reload();
  };
  async function exportAs(format: "xlsx" | "docx") {
    setError(null);
    try {
      await downloadFile(`${BASE}/${id}/export?format=${format}`, `tong-hop-gop-y.${format}`);
    } catch (e) {
      setError(e);
    }
  }
  async function close() {
    if (!window.confirm(c.confirmClose)) return;
    setError(null);
    try {
      consultation.set(await post<Consultation>(`${BASE}/${id}/close`));
      setNote(c.closed);
    } catch (e) {
      setError(e);
    }
  }
  return (
    <Frame title={consultation.data?.title ?? v.actions.consultations.title} org={org}>
      <p>
        <a href="/manage/committee/consultations">{c.back}</a>
      </p>
      <Show state={consultation}>
        {(x) => (
          <section class="card" aria-labelledby="consult-head">
            <h2 id="consult-head">{[x.document_number, x.document_title].filter(Boolean).join(" · ")}</h2>
            <p>
              {x.org_title} · <strong>{c.status[x.status]}</strong> · {c.deadlineOn(formatValue(x.deadline, "datetime"))}
            </p>
            <div class="inline">
              <button type="button" class="button secondary" onClick={() => void exportAs("xlsx")}>
                {c.exportXlsx}
              </button>
              <button type="button" class="button secondary" onClick={() => void exportAs("docx")}>
                {c.exportDocx}
              </button>
              {x.status !== "closed" && (
                <button type="button" class="button" onClick={() => void close()}>
                  {c.close}
                </button>
              )}
            </div>
            {error !== null && <ErrorBox error={error} />}
            {note && <p role="status">{note}</p>}
          </section>
        )}
      </Show>
      <Show state={summary}>
        {(s) => (
          <section class="card" aria-labelledby="consult-summary" data-testid="summary">
            <h2 id="consult-summary">{c.summary}</h2>
            <p>{c.totals(s.total, s.members)}</p>
            <p>{c.dispositions(s.accepted, s.rejected, s.pending)}</p>
            <div class="table-wrap" tabIndex={0} role="region" aria-label={c.bySection}>
              <table class="report">
                <caption class="visually-hidden">{c.bySection}</caption>
                <thead>
                  <tr>
                    <th scope="col">{c.section}</th>
                    <th scope="col" class="num">
                      {c.comments}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  <tr>
                    <th scope="row">{c.whole}</th>
                    <td class="num">{s.whole}</td>
                  </tr>
                  {s.by_section.map((x) => (
                    <tr key={x.anchor}>
                      <th scope="row">{x.title}</th>
                      <td class="num">{x.comments}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {s.by_org.length > 0 && (
              <div class="table-wrap" tabIndex={0} role="region" aria-label={c.byOrg}>
                <table class="report">
                  <caption class="visually-hidden">{c.byOrg}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{c.cell}</th>
                      <th scope="col" class="num">
                        {c.comments}
                      </th>
                      <th scope="col" class="num">
                        {c.members}
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.by_org.map((o) => (
                      <tr key={o.cell_id}>
                        <th scope="row">{o.cell_title}</th>
                        <td class="num">{o.comments}</td>
                        <td class="num">{o.members}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        )}
      </Show>
      <section aria-labelledby="consult-comments">
        <h2 id="consult-comments">{c.view}</h2>
        <fieldset>
          <legend class="visually-hidden">{c.view}</legend>
          <div class="inline">
            <label class="check">
              <input type="radio" name="view" checked={view === "section"} onChange={() => setView("section")} />
              {c.bySection}
            </label>
            <label class="check">
              <input type="radio" name="view" checked={view === "org"} onChange={() => setView("org")} />
              {c.byOrg}
            </label>
          </div>
        </fieldset>
        <Show state={comments}>
          {(items) =>
            consultation.data ? (
              <Groups id={id} consultation={consultation.data} comments={items} view={view} onSaved={saved} />
            ) : null
          }
        </Show>
      </section>
    </Frame>
  );
}
