import { useEffect, useState } from "preact/hooks";
import { bearer, get, post, put, refresh } from "../api/client";
import type { InboxPage, Notification, Preferences, PushSubscription } from "../api/types";
import { t } from "../i18n/vi";
import { cachedGet } from "../offline/store";
import { rememberPushSubscription } from "../session";
import { ErrorBox, Screen, Show, useAsync } from "../ui/common";
import { when } from "../ui/format";

/** The live stream (Server-Sent Events). EventSource cannot send the Authorization header, so
 * this reads the stream with fetch; it reconnects with Last-Event-ID after a drop. */
function useLiveInbox(onNotification: (n: Notification) => void): boolean {
  const [live, setLive] = useState(false);
  useEffect(() => {
    const abort = new AbortController();
    let lastId: string | null = null;
    let stopped = false;

    const connect = async (): Promise<void> => {
      while (!stopped) {
        try {
          const headers: Record<string, string> = { Accept: "text/event-stream" };
          const token = bearer();
          if (token) headers.Authorization = `Bearer ${token}`;
          if (lastId) headers["Last-Event-ID"] = lastId;
          const r = await fetch("/api/v1/inbox/stream", { headers, signal: abort.signal });
          if (r.status === 401) {
            if (!(await refresh())) return;
            continue;
          }
          if (!r.ok || !r.body) throw new Error(String(r.status));
          const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            let end: number;
            while ((end = buffer.indexOf("\n\n")) >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              let event = "message";
              let data = "";
              for (const line of block.split("\n")) {
                if (line.startsWith("event:")) event = line.slice(6).trim();
                else if (line.startsWith("data:")) data += line.slice(5).trim();
                else if (line.startsWith("id:")) lastId = line.slice(3).trim();
              }
              if (event === "ready") setLive(true);
              else if (event === "notification" && data) onNotification(JSON.parse(data) as Notification);
              else if (event === "reauth") await refresh();
            }
          }
        } catch {
          if (stopped) return;
        }
        setLive(false);
        // The server closes the stream when the token expires or on restart: reconnect shortly.
        await new Promise((resolve) => window.setTimeout(resolve, 2000));
      }
    };
    void connect();
    return () => {
      stopped = true;
      abort.abort();
    };
  }, []);
  return live;
}

export function Inbox() {
  const inbox = useAsync(() => cachedGet<InboxPage>("/api/v1/inbox", { limit: 50 }), []);
  const [error, setError] = useState<unknown>(null);
  const live = useLiveInbox((n) => {
    const page = inbox.data;
    if (!page) return inbox.reload();
    if (page.items.some((x) => x.id === n.id)) return;
    inbox.set({ ...page, items: [n, ...page.items], unread_count: page.unread_count + (n.read_at ? 0 : 1) });
  });

  async function markRead(n: Notification) {
    try {
      const updated = await post<Notification>(`/api/v1/inbox/${n.id}/read`);
      const page = inbox.data!;
      inbox.set({
        ...page,
        items: page.items.map((x) => (x.id === n.id ? updated : x)),
        unread_count: Math.max(0, page.unread_count - 1),
      });
    } catch (e) {
      setError(e);
    }
  }

  async function markAll() {
    try {
      await post("/api/v1/inbox/read-all");
      inbox.reload();
    } catch (e) {
      setError(e);
    }
  }

  return (
    <Screen title={t.inbox.title}>
      <p class="hint" role="status">
        {live ? t.inbox.live : ""}
      </p>
      {error !== null && <ErrorBox error={error} />}
      <Show state={inbox}>
        {(page) => (
          <>
            <p>{t.inbox.unreadCount(page.unread_count)}</p>
            {page.unread_count > 0 && (
              <button type="button" class="button secondary" onClick={markAll}>
                {t.inbox.markAll}
              </button>
            )}
            {page.items.length ? (
              <ul class="list" aria-live="polite" aria-label={t.inbox.title}>
                {page.items.map((n) => (
                  <li key={n.id} class={n.read_at ? "read" : "unread"}>
                    <a class="row-link" href={n.link || "/inbox"}>
                      <strong>
                        {!n.read_at && <span class="visually-hidden">{t.inbox.unread}: </span>}
                        {n.title}
                      </strong>
                      <span>{n.body}</span>
                      <small>{when(n.created_at)}</small>
                    </a>
                    {!n.read_at && (
                      <button type="button" class="button link" onClick={() => markRead(n)}>
                        {t.inbox.markRead}
                        <span class="visually-hidden">: {n.title}</span>
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            ) : (
              <p>{t.inbox.none}</p>
            )}
          </>
        )}
      </Show>
      <PushOptIn />
      <NotificationPreferences />
    </Screen>
  );
}

function urlBase64ToBytes(value: string): Uint8Array<ArrayBuffer> {
  const padded = (value + "===".slice((value.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(padded);
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function PushOptIn() {
  const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  const [message, setMessage] = useState("");
  const [error, setError] = useState<unknown>(null);

  async function enable() {
    setError(null);
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        setMessage(t.inbox.pushDenied);
        return;
      }
      const { public_key } = await get<{ public_key: string }>("/api/v1/push-subscriptions/vapid-public-key");
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: urlBase64ToBytes(public_key),
      });
      const saved = await post<PushSubscription>("/api/v1/push-subscriptions", subscription.toJSON());
      rememberPushSubscription(saved.id);
      setMessage(t.inbox.pushOn);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <section aria-labelledby="push" class="card">
      <h2 id="push">{t.inbox.push}</h2>
      {supported ? (
        <button type="button" class="button secondary" onClick={enable}>
          {t.inbox.push}
        </button>
      ) : (
        <p>{t.inbox.pushUnsupported}</p>
      )}
      {error !== null && <ErrorBox error={error} />}
      <p role="status" class="status">
        {message}
      </p>
    </section>
  );
}

function NotificationPreferences() {
  const prefs = useAsync(() => get<Preferences>("/api/v1/notification-preferences"), []);
  const [message, setMessage] = useState("");
  const [error, setError] = useState<unknown>(null);

  async function save(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const from = String(form.get("quiet-from") ?? "");
    const to = String(form.get("quiet-to") ?? "");
    setError(null);
    try {
      const updated = await put<Preferences>("/api/v1/notification-preferences", {
        channels: {
          inapp: true,
          webpush: form.get("webpush") === "on",
          email: form.get("email") === "on",
          sms: form.get("sms") === "on",
        },
        quiet_hours: from && to ? { start: from, end: to } : null,
      });
      prefs.set(updated);
      setMessage(t.inbox.saved);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <section aria-labelledby="prefs" class="card">
      <h2 id="prefs">{t.inbox.preferences}</h2>
      <Show state={prefs}>
        {(p) => (
          <form class="stack" onSubmit={save}>
            {(["webpush", "email", "sms"] as const).map((c) => (
              <label class="check" key={c}>
                <input type="checkbox" name={c} defaultChecked={p.channels[c]} />
                {t.inbox.channels[c]}
              </label>
            ))}
            <fieldset>
              <legend>{t.inbox.quietHours}</legend>
              <div class="inline">
                <label for="quiet-from">{t.inbox.quietFrom}</label>
                <input id="quiet-from" name="quiet-from" type="time" defaultValue={p.quiet_hours?.start ?? ""} />
                <label for="quiet-to">{t.inbox.quietTo}</label>
                <input id="quiet-to" name="quiet-to" type="time" defaultValue={p.quiet_hours?.end ?? ""} />
              </div>
            </fieldset>
            {error !== null && <ErrorBox error={error} />}
            <p role="status" class="status">
              {message}
            </p>
            <button type="submit" class="button secondary">
              {t.save}
            </button>
          </form>
        )}
      </Show>
    </section>
  );
}

