import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, del, put } from "../api/client";
import type {
  DocumentDetail,
  DocumentSummary,
  DocumentText,
  Page,
  ProgressIn,
  ToStudy,
} from "../api/types";
import { t } from "../i18n/vi";
import { cachedGet, keepAhead, keepFile, originalFile, write } from "../offline/store";
import { ErrorBox, Screen, Show, useAsync } from "../ui/common";
import { day } from "../ui/format";
import { navigate, useLocation } from "../ui/router";
import { textSize, setTextSize } from "../ui/settings";
import { QuizSection } from "./Quiz";

export function StudyItem({ item }: { item: ToStudy }) {
  return (
    <li>
      <a class="row-link" href={`/documents/${item.document_id}`}>
        <strong>
          {item.number ? `${item.number} · ` : ""}
          {item.title}
        </strong>
        {item.study_deadline && (
          <span class={item.overdue ? "overdue" : undefined}>
            {t.documents.deadline(day(item.study_deadline))}
            {item.overdue ? ` · ${t.documents.overdue}` : ""}
          </span>
        )}
        <Progress value={item.progress_percent} />
      </a>
    </li>
  );
}

function Progress({ value }: { value: number }) {
  return (
    <span class="progress">
      <progress max={100} value={value} aria-hidden="true" />
      <span>{value >= 100 ? t.documents.studied : t.documents.progress(value)}</span>
    </span>
  );
}

const FILTERS = ["to_study", "unread", "bookmarked"] as const;

export function Documents() {
  const location = useLocation();
  const params = location.searchParams;
  const query = {
    q: params.get("q") ?? undefined,
    kind: params.get("kind") ?? undefined,
    issuer: params.get("issuer") ?? undefined,
    year: params.get("year") ?? undefined,
    to_study: params.get("to_study") === "true" || undefined,
    unread: params.get("unread") === "true" || undefined,
    bookmarked: params.get("bookmarked") === "true" || undefined,
    limit: 30,
  };
  const list = useAsync(
    () => cachedGet<Page<DocumentSummary>>("/api/v1/documents", query),
    [location.search],
  );
  // The to-study filter keeps its documents for offline reading, as home does.
  useEffect(() => {
    if (list.data && query.to_study) {
      keepAhead(list.data.items.map((d) => ({ id: d.id, version: d.current_version })));
    }
  }, [list.data]);

  function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const next = new URLSearchParams();
    for (const [k, v] of form.entries()) if (typeof v === "string" && v.trim()) next.set(k, v.trim());
    navigate(`/documents${next.size ? `?${next}` : ""}`);
  }

  return (
    <Screen title={t.documents.title}>
      <form role="search" onSubmit={submit} class="stack">
        <label for="q">{t.documents.search}</label>
        <div class="inline">
          <input id="q" name="q" type="search" defaultValue={query.q} aria-describedby="q-hint" autoComplete="off" />
          <button type="submit" class="button">
            {t.documents.searchButton}
          </button>
        </div>
        <p id="q-hint" class="hint">
          {t.documents.searchHint}
        </p>
        <details>
          <summary>{t.documents.filters}</summary>
          <div class="stack">
            <label for="kind">{t.documents.kind}</label>
            <select id="kind" name="kind" defaultValue={query.kind ?? ""}>
              <option value="">{t.documents.anyKind}</option>
              {Object.entries(t.documents.kinds).map(([k, label]) => (
                <option key={k} value={k}>
                  {label}
                </option>
              ))}
            </select>
            <label for="issuer">{t.documents.issuer}</label>
            <input id="issuer" name="issuer" defaultValue={query.issuer} autoComplete="off" />
            <label for="year">{t.documents.year}</label>
            <input id="year" name="year" inputMode="numeric" pattern="[0-9]{4}" defaultValue={query.year} autoComplete="off" />
            {FILTERS.map((f) => (
              <label class="check" key={f}>
                <input type="checkbox" name={f} value="true" defaultChecked={params.get(f) === "true"} />
                {f === "to_study" ? t.documents.toStudy : f === "unread" ? t.documents.unread : t.documents.bookmarked}
              </label>
            ))}
            <button type="submit" class="button secondary">
              {t.documents.filters}
            </button>
          </div>
        </details>
      </form>
      <Show state={list}>
        {(page) =>
          page.items.length ? (
            <ul class="list" aria-label={t.documents.title}>
              {page.items.map((d) => (
                <li key={d.id}>
                  <a class="row-link" href={`/documents/${d.id}`}>
                    <strong>
                      {d.number ? `${d.number} · ` : ""}
                      {d.title}
                    </strong>
                    <span>
                      {t.documents.kinds[d.kind] ?? d.kind}
                      {d.issuer ? ` · ${d.issuer}` : ""}
                      {d.issued_on ? ` · ${day(d.issued_on)}` : ""}
                    </span>
                    {d.my_progress_percent !== null && d.my_progress_percent !== undefined && (
                      <Progress value={d.studied ? 100 : d.my_progress_percent} />
                    )}
                  </a>
                </li>
              ))}
            </ul>
          ) : (
            <p>{t.documents.none}</p>
          )
        }
      </Show>
      <p>
        <a href="/consultations">{t.consult.allLink}</a>
      </p>
    </Screen>
  );
}

/** The document's facts, its text to read (scroll posts progress), the original file, bookmark. */
export function DocumentReader({ id }: { id: string }) {
  const doc = useAsync(() => cachedGet<DocumentDetail>(`/api/v1/documents/${id}`), [id]);
  const text = useAsync(async () => {
    try {
      return (await cachedGet<DocumentText>(`/api/v1/documents/${id}/text`)).blocks;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return [];
      throw e;
    }
  }, [id]);
  const [bookmarked, setBookmarked] = useState<boolean | null>(null);
  const [fileError, setFileError] = useState<unknown>(null);
  const article = useRef<HTMLDivElement>(null);
  const sent = useRef(0);

  useEffect(() => {
    if (doc.data) {
      sent.current = doc.data.studied ? 100 : (doc.data.my_progress_percent ?? 0);
      setBookmarked(doc.data.bookmarked);
      // A document to study (with a deadline or without) stays readable offline, its file too.
      const toStudy =
        Boolean(doc.data.study_deadline) ||
        doc.data.publications.some((p) => p.study_required && !p.retracted_at);
      if (toStudy && !doc.data.studied) void keepFile(id, doc.data.current_version);
    }
  }, [doc.data, id]);

  // Reading progress: how far the bottom of the screen has come through the text. Sent when it
  // grows by 10 points or reaches the end (the end marks the document studied).
  useEffect(() => {
    if (!doc.data || !text.data) return;
    const version = doc.data.current_version;
    let timer = 0;
    const measure = () => {
      const el = article.current;
      if (!el) return;
      const rect = el.getBoundingClientRect();
      const seen = window.innerHeight - rect.top;
      const percent = Math.max(0, Math.min(100, Math.round((seen / Math.max(rect.height, 1)) * 100)));
      if (percent >= 100 && sent.current < 100) {
        sent.current = 100;
        const body: ProgressIn = { version, progress_percent: 100, studied: true };
        void write("POST", `/api/v1/documents/${id}/reads`, body);
      } else if (percent >= sent.current + 10 && percent < 100) {
        sent.current = percent;
        const body: ProgressIn = { version, progress_percent: percent, studied: false };
        void write("POST", `/api/v1/documents/${id}/reads`, body);
      }
    };
    const onScroll = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(measure, 300);
    };
    window.addEventListener("scroll", onScroll, { passive: true });
    measure();
    return () => {
      window.removeEventListener("scroll", onScroll);
      window.clearTimeout(timer);
    };
  }, [doc.data, text.data, id]);

  async function openOriginal() {
    setFileError(null);
    try {
      // Handed over as a download, online or not (the kept copy when the network is gone).
      const file = await originalFile(id);
      const url = URL.createObjectURL(file.blob);
      const anchor = document.createElement("a");
      anchor.href = url;
      anchor.download = file.filename;
      anchor.click();
      window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      setFileError(e);
    }
  }

  async function toggleBookmark() {
    try {
      if (bookmarked) await del(`/api/v1/documents/${id}/bookmark`);
      else await put(`/api/v1/documents/${id}/bookmark`);
      setBookmarked(!bookmarked);
    } catch (e) {
      setFileError(e);
    }
  }

  return (
    <Show state={doc}>
      {(d) => (
        <Screen title={d.title}>
          <p class="meta">
            {d.number ? `${d.number} · ` : ""}
            {t.documents.kinds[d.kind] ?? d.kind}
            {d.issuer ? ` · ${d.issuer}` : ""}
            {d.issued_on ? ` · ${day(d.issued_on)}` : ""}
          </p>
          {d.study_deadline && <p>{t.documents.deadline(day(d.study_deadline))}</p>}
          <div class="toolbar">
            <button type="button" class="button secondary" onClick={openOriginal}>
              {t.documents.original}
            </button>
            <button type="button" class="button secondary" aria-pressed={bookmarked ?? false} onClick={toggleBookmark}>
              {bookmarked ? t.documents.unbookmark : t.documents.bookmark}
            </button>
            <span class="text-size" role="group" aria-label={t.documents.textSize}>
              <button type="button" class="button secondary" onClick={() => setTextSize(textSize.value - 1)} aria-label={t.documents.smaller}>
                A−
              </button>
              <button type="button" class="button secondary" onClick={() => setTextSize(textSize.value + 1)} aria-label={t.documents.larger}>
                A+
              </button>
            </span>
          </div>
          {fileError !== null && <ErrorBox error={fileError} />}
          <Show state={text}>
            {(blocks) =>
              blocks.length ? (
                <div ref={article} class="reader" lang="vi">
                  {blocks.map((b, i) => (b.kind === "heading" ? <h2 key={i}>{b.text}</h2> : <p key={i}>{b.text}</p>))}
                </div>
              ) : (
                <p>{t.documents.noText}</p>
              )
            }
          </Show>
          <QuizSection documentId={id} version={d.current_version} />
        </Screen>
      )}
    </Show>
  );
}
