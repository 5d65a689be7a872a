// The minutes: the editor pre-filled with the draft the meetings service generates, saving,
// signing (a confirmation that shows what becomes immutable and the content's SHA-256) and the
// downloads.
import { useState } from "preact/hooks";
import { get, post, put } from "../../api/client";
import { ErrorBox, Screen, Show, useAsync } from "../../ui/common";
import { when } from "../../ui/format";
import { download, type Meeting, type Minutes } from "./api";
import { v } from "./vi";

function Editor({ meeting, initial }: { meeting: Meeting; initial: Minutes }) {
  const [minutes, setMinutes] = useState(initial);
  const [text, setText] = useState(initial.content);
  const [asking, setAsking] = useState(false);
  const [message, setMessage] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const dirty = text !== minutes.content;
  const base = `/api/v1/meetings/${meeting.id}/minutes`;

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    setMessage("");
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const save = () =>
    run(async () => {
      const saved = await put<Minutes>(base, { content: text });
      setMinutes(saved);
      setText(saved.content);
      setMessage(v.minutes.saved);
    });
  const sign = () =>
    run(async () => {
      const signed = await post<Minutes>(`${base}/sign`, { content_sha256: minutes.content_sha256 });
      setMinutes(signed);
      setAsking(false);
      setMessage(v.minutes.signed);
    });
  const fetchFile = (format: "docx" | "pdf" | "md") => run(() => download(`${base}/download?format=${format}`, `bien-ban.${format}`));

  return (
    <>
      <p class="meta" data-testid="minutes-state">
        {v.minutes.states[minutes.state] ?? minutes.state}
        {minutes.signed_at && ` · ${v.minutes.signedAt} ${when(minutes.signed_at)}`}
      </p>
      {minutes.signed ? (
        <section class="card" aria-labelledby="signed">
          <h2 id="signed">{v.minutes.signed}</h2>
          <p>
            {v.minutes.hash}: <code class="hash" data-testid="minutes-hash">{minutes.content_sha256}</code>
          </p>
          <pre class="minutes-text">{minutes.content}</pre>
        </section>
      ) : (
        <div class="stack">
          <label for="minutes-text">{v.minutes.editor}</label>
          <textarea id="minutes-text" class="minutes-editor" rows={18} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <div class="toolbar">
            <button type="button" class="button secondary" disabled={busy || !dirty} onClick={save}>
              {v.minutes.save}
            </button>
            {meeting.status === "closed" ? (
              <button type="button" class="button" disabled={busy} onClick={() => setAsking(true)}>
                {v.minutes.sign}
              </button>
            ) : (
              <p class="hint">{v.minutes.notClosed}</p>
            )}
          </div>
          {asking && (
            <section class="card confirm" role="dialog" aria-modal="false" aria-labelledby="sign-title">
              <h2 id="sign-title">{v.minutes.signTitle}</h2>
              <p>{v.minutes.signExplain}</p>
              {dirty ? (
                <p class="overdue">{v.minutes.unsaved}</p>
              ) : (
                <>
                  <p>
                    {v.minutes.hash}: <code class="hash" data-testid="sign-hash">{minutes.content_sha256}</code>
                  </p>
                  <div class="toolbar">
                    <button type="button" class="button" disabled={busy} onClick={sign}>
                      {v.minutes.confirmSign}
                    </button>
                    <button type="button" class="button secondary" onClick={() => setAsking(false)}>
                      {v.back}
                    </button>
                  </div>
                </>
              )}
            </section>
          )}
        </div>
      )}
      <p role="status" class="status">
        {message}
      </p>
      {error !== null && <ErrorBox error={error} />}
      <section class="card" aria-labelledby="download">
        <h2 id="download">{v.minutes.download}</h2>
        <div class="toolbar">
          <button type="button" class="button secondary" disabled={busy} onClick={() => fetchFile("docx")}>
            {v.minutes.docx}
          </button>
          <button type="button" class="button secondary" disabled={busy} onClick={() => fetchFile("pdf")}>
            {v.minutes.pdf}
          </button>
          <button type="button" class="button secondary" disabled={busy} onClick={() => fetchFile("md")}>
            {v.minutes.md}
          </button>
        </div>
      </section>
    </>
  );
}

export function MinutesScreen({ id }: { id: string }) {
  const data = useAsync(
    () => Promise.all([get<Meeting>(`/api/v1/meetings/${id}`), get<Minutes>(`/api/v1/meetings/${id}/minutes`)]),
    [id],
  );
  return (
    <Show state={data}>
      {([m, minutes]) => (
        <Screen title={`${v.minutes.title}: ${m.title}`}>
          <p>
            <a href={`/manage/cell/meetings/${m.id}`}>{v.back}</a>
          </p>
          <Editor meeting={m} initial={minutes} />
        </Screen>
      )}
    </Show>
  );
}
