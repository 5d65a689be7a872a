// Consultation on drafts (lấy ý kiến góp ý dự thảo), the member's side: the drafts open to them,
// the draft's reader view with a "Góp ý" action under each section heading and one for the
// whole, and their own comments with the committee's replies (edit or withdraw until the
// deadline). Sent straight to the server, never queued offline: a comment counts only before
// the deadline.
import { useState } from "preact/hooks";
import { del, get, post, put } from "../api/client";
import type { Consultation, DocumentText, MyComment } from "../api/types";
import { t } from "../i18n/vi";
import { ErrorBox, Screen, Show, useAsync } from "../ui/common";
import { when } from "../ui/format";

const BASE = "/api/v1/documents/consultations";

export function ConsultationRows({ items }: { items: Consultation[] }) {
  return (
    <ul class="list">
      {items.map((c) => (
        <li key={c.id}>
          <a class="row-link" href={`/consultations/${c.id}`}>
            <strong>{c.title}</strong>
            <span>{c.document_number ? `${c.document_number} · ${c.document_title}` : c.document_title}</span>
            <span class={c.status === "open" ? undefined : "meta"}>
              {t.consult.status[c.status]} · {t.consult.deadline(when(c.deadline))}
            </span>
            <small>{t.consult.myCount(c.my_comments)}</small>
          </a>
        </li>
      ))}
    </ul>
  );
}

/** The consultations addressed to the member (not those they only run as a committee). */
export function useMyConsultations() {
  return useAsync(async () => (await get<Consultation[]>(BASE)).filter((c) => c.can_comment || c.my_comments > 0 || !c.can_manage), []);
}

export function Consultations() {
  const list = useMyConsultations();
  return (
    <Screen title={t.consult.title}>
      <p>{t.consult.intro}</p>
      <Show state={list}>{(items) => (items.length ? <ConsultationRows items={items} /> : <p>{t.consult.none}</p>)}</Show>
    </Screen>
  );
}

function CommentForm({
  id,
  label,
  initial = "",
  submitLabel,
  onSubmit,
  onCancel,
}: {
  id: string;
  label: string;
  initial?: string;
  submitLabel: string;
  onSubmit: (text: string) => Promise<void>;
  onCancel?: () => void;
}) {
  const [text, setText] = useState(initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(text);
      setText("");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="stack comment-form" onSubmit={submit}>
      <label for={id}>{label}</label>
      <textarea
        id={id}
        rows={4}
        required
        maxLength={4000}
        aria-describedby={`${id}-hint`}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <p id={`${id}-hint`} class="hint">
        {t.consult.hint}
      </p>
      {error !== null && <ErrorBox error={error} />}
      <div class="inline">
        <button type="submit" class="button" disabled={busy || !text.trim()}>
          {submitLabel}
        </button>
        {onCancel && (
          <button type="button" class="button secondary" onClick={onCancel}>
            {t.cancel}
          </button>
        )}
      </div>
    </form>
  );
}

function MyComments({ c, items, reload }: { c: Consultation; items: MyComment[]; reload: () => void }) {
  const [editing, setEditing] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  async function withdraw(k: MyComment) {
    if (!window.confirm(t.consult.confirmWithdraw)) return;
    setError(null);
    try {
      await del(`${BASE}/${c.id}/comments/${k.id}`);
      setNote(t.consult.withdrawn);
      reload();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <section aria-labelledby="my-comments" class="card">
      <h2 id="my-comments">{t.consult.mine}</h2>
      {note && <p role="status">{note}</p>}
      {error !== null && <ErrorBox error={error} />}
      {items.length === 0 ? (
        <p>{t.consult.noMine}</p>
      ) : (
        <ul class="list comments" data-testid="my-comments">
          {items.map((k) => (
            <li key={k.id} class="comment">
              <p class="meta">
                {t.consult.about(k.section_title ?? t.consult.whole)} · {when(k.updated_at)}
              </p>
              {editing === k.id ? (
                <CommentForm
                  id={`edit-${k.id}`}
                  label={t.consult.editLabel}
                  initial={k.text}
                  submitLabel={t.save}
                  onCancel={() => setEditing(null)}
                  onSubmit={async (text) => {
                    await put(`${BASE}/${c.id}/comments/${k.id}`, { text });
                    setEditing(null);
                    setNote(t.consult.saved);
                    reload();
                  }}
                />
              ) : (
                <p class="comment-text">{k.text}</p>
              )}
              <p>
                <strong>{t.consult.disposition[k.disposition]}</strong>
                {k.disposition_reason ? ` · ${t.consult.reason(k.disposition_reason)}` : ""}
              </p>
              {k.reply ? (
                <blockquote class="reply">
                  <p class="meta">{t.consult.reply}</p>
                  <p class="comment-text">{k.reply}</p>
                </blockquote>
              ) : (
                <p class="meta">{t.consult.noReply}</p>
              )}
              {c.can_comment && editing !== k.id && (
                <div class="inline">
                  <button type="button" class="button secondary" onClick={() => setEditing(k.id)}>
                    {t.consult.edit}
                  </button>
                  <button type="button" class="button secondary" onClick={() => void withdraw(k)}>
                    {t.consult.withdraw}
                  </button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function ConsultationDetail({ id }: { id: string }) {
  const consultation = useAsync(() => get<Consultation>(`${BASE}/${id}`), [id]);
  const text = useAsync(() => get<DocumentText>(`${BASE}/${id}/text`), [id]);
  const mine = useAsync(() => get<MyComment[]>(`${BASE}/${id}/comments/mine`), [id]);
  const [open, setOpen] = useState<string | null>(null); // an anchor, or "whole"
  const [sent, setSent] = useState<string | null>(null);
  const title = consultation.data?.title ?? t.consult.title;

  async function send(section: string | null, body: string) {
    await post<MyComment>(`${BASE}/${id}/comments`, { section, text: body });
    setOpen(null);
    setSent(t.consult.sent);
    mine.reload();
    consultation.reload();
  }

  function Action({ anchor, heading }: { anchor: string | null; heading: string }) {
    const key = anchor ?? "whole";
    const c = consultation.data;
    if (!c?.can_comment) return null;
    if (open === key) {
      return (
        <CommentForm
          id={`comment-${key}`}
          label={t.consult.yourComment(heading)}
          submitLabel={t.consult.send}
          onCancel={() => setOpen(null)}
          onSubmit={(body) => send(anchor, body)}
        />
      );
    }
    return (
      <button
        type="button"
        class="button secondary comment-action"
        aria-describedby={anchor ? `sec-${anchor}` : undefined}
        onClick={() => {
          setSent(null);
          setOpen(key);
        }}
      >
        {anchor ? t.consult.commentSection : t.consult.commentWhole}
      </button>
    );
  }

  return (
    <Screen title={title}>
      <p>
        <a href="/consultations">{t.back}</a>
      </p>
      <Show state={consultation}>
        {(c) => (
          <section class="card" aria-labelledby="consult-about">
            <h2 id="consult-about">{c.document_number ? `${c.document_number} · ${c.document_title}` : c.document_title}</h2>
            {c.purpose && <p>{c.purpose}</p>}
            <p>
              <strong>{t.consult.status[c.status]}</strong> · {t.consult.deadline(when(c.deadline))}
            </p>
            {c.status !== "open" && <p role="status">{t.consult.closedNote}</p>}
            {sent && <p role="status">{sent}</p>}
            <Action anchor={null} heading={t.consult.whole} />
          </section>
        )}
      </Show>
      <Show state={mine}>{(items) => (consultation.data ? <MyComments c={consultation.data} items={items} reload={mine.reload} /> : null)}</Show>
      <section aria-labelledby="draft" class="card reader">
        <h2 id="draft">{t.consult.draft}</h2>
        <Show state={text}>
          {(doc) =>
            doc.blocks.length ? (
              <article class="reader-text">
                {doc.blocks.map((b, i) =>
                  b.kind === "heading" ? (
                    <div key={i} class="section-head">
                      <h3 id={b.anchor ? `sec-${b.anchor}` : undefined}>{b.text}</h3>
                      {b.anchor && <Action anchor={b.anchor} heading={b.text} />}
                    </div>
                  ) : (
                    <p key={i}>{b.text}</p>
                  ),
                )}
              </article>
            ) : (
              <p>{t.consult.noText}</p>
            )
          }
        </Show>
      </section>
    </Screen>
  );
}
