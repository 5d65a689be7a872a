// What a member has seen, kept on the device for offline reading, and what they did offline,
// waiting to be sent. IndexedDB, every record keyed by member id, so sign-out erases exactly one
// member's data and a second member on the same browser finds nothing of the first.
// Tokens are never stored here.
import { ApiError, NetworkError, api } from "../api/client";
import type { DocumentDetail, DocumentText, Download } from "../api/types";

const DB_NAME = "sotay";
const DATA = "data";
const QUEUE = "queue";

export const FILES_CACHE_PREFIX = "sotay-files-";

let member: string | null = null;
let dbPromise: Promise<IDBDatabase> | null = null;

function db(): Promise<IDBDatabase> {
  dbPromise ??= new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => {
      const d = open.result;
      d.createObjectStore(DATA);
      const queue = d.createObjectStore(QUEUE, { keyPath: "key" });
      queue.createIndex("member", "member");
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  return dbPromise;
}

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function store(name: string, mode: IDBTransactionMode): Promise<IDBObjectStore> {
  return (await db()).transaction(name, mode).objectStore(name);
}

export function setMember(id: string | null): void {
  member = id;
  notify();
}

export function currentMember(): string | null {
  return member;
}

export async function remember(key: string, value: unknown): Promise<void> {
  if (!member) return;
  await done((await store(DATA, "readwrite")).put(value, `${member}|${key}`));
}

export async function recall<T>(key: string): Promise<T | undefined> {
  if (!member) return undefined;
  return (await done((await store(DATA, "readonly")).get(`${member}|${key}`))) as T | undefined;
}

// ── online state and the queue, observed by the banner ─────────────────────────────────────

export interface SyncState {
  online: boolean;
  waiting: number;
  servedFromDevice: boolean;
}

const state: SyncState = { online: navigator.onLine, waiting: 0, servedFromDevice: false };
const listeners = new Set<(s: SyncState) => void>();

export function observe(listener: (s: SyncState) => void): () => void {
  listeners.add(listener);
  listener({ ...state });
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const l of listeners) l({ ...state });
}

function setState(patch: Partial<SyncState>): void {
  Object.assign(state, patch);
  notify();
}

type Query = Record<string, string | number | boolean | undefined>;

function readKey(path: string, query?: Query): string {
  return `GET ${path} ${JSON.stringify(query ?? {})}`;
}

/** A read that falls back to what this member last saw when the network is gone. */
export async function cachedGet<T>(path: string, query?: Query): Promise<T> {
  const key = readKey(path, query);
  try {
    const value = await api<T>("GET", path, { query });
    setState({ online: true, servedFromDevice: false });
    void remember(key, value);
    return value;
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    const saved = await recall<T>(key);
    if (saved === undefined) throw error;
    setState({ online: false, servedFromDevice: true });
    return saved;
  }
}

// ── original files of documents, kept for offline reading ──────────────────────────────────
// Download links are signed for the gateway, which routes the documents bucket to S3, so the file
// is same-origin: fetched here and kept in the member's own cache (erased at sign-out).

export interface KeptFile {
  blob: Blob;
  filename: string;
  version: number;
}

function fileKey(documentId: string): string {
  return `/offline/files/${documentId}`;
}

async function keptFile(documentId: string): Promise<KeptFile | undefined> {
  if (!member) return undefined;
  const cache = await caches.open(FILES_CACHE_PREFIX + member);
  const response = await cache.match(fileKey(documentId));
  if (!response) return undefined;
  return {
    blob: await response.blob(),
    filename: decodeURIComponent(response.headers.get("X-Filename") ?? ""),
    version: Number(response.headers.get("X-Version")),
  };
}

async function fetchFile(documentId: string): Promise<KeptFile> {
  const link = await api<Download>("GET", `/api/v1/documents/${documentId}/file`);
  let response: Response;
  try {
    response = await fetch(link.url, { credentials: "omit", cache: "no-store" });
  } catch {
    throw new NetworkError();
  }
  if (!response.ok) throw new NetworkError();
  const blob = await response.blob();
  const file: KeptFile = { blob, filename: link.filename, version: link.version };
  if (member) {
    const cache = await caches.open(FILES_CACHE_PREFIX + member);
    await cache.put(
      fileKey(documentId),
      new Response(blob, {
        headers: {
          "Content-Type": link.content_type,
          "X-Filename": encodeURIComponent(link.filename),
          "X-Version": String(link.version),
        },
      }),
    );
  }
  return file;
}

/** Keep the document's current file on the device unless that version is kept already (a
 * document to study is readable offline, file included). Failures wait for the next visit. */
export async function keepFile(documentId: string, version: number): Promise<void> {
  try {
    if ((await keptFile(documentId))?.version === version) return;
    await fetchFile(documentId);
  } catch {
    // Offline or refused: nothing kept now; the reader tries again on its next visit.
  }
}

/** The original file: fresh from the server, or the kept copy when the network is gone. */
export async function originalFile(documentId: string): Promise<KeptFile> {
  try {
    return await fetchFile(documentId);
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    const kept = await keptFile(documentId);
    if (!kept) throw error;
    setState({ online: false, servedFromDevice: true });
    return kept;
  }
}

// ── documents to study, kept ahead ─────────────────────────────────────────────────────────
// When the to-study list loads online, each listed document's detail, text and current file are
// kept on the device before the member opens them, so they read offline after one visit to home.
// One document at a time (a 3G link stays usable), skipping what is kept for that version, and
// the run stops at the first sign that the network is gone; the next visit carries on.

export interface StudyDocument {
  id: string;
  version: number;
}

let keepingAhead: Promise<void> = Promise.resolve();

export function keepAhead(documents: StudyDocument[]): void {
  const forMember = member;
  keepingAhead = keepingAhead.then(async () => {
    for (const doc of documents) {
      if (!navigator.onLine || member !== forMember) return;
      try {
        await keepDocument(doc);
      } catch (error) {
        if (error instanceof NetworkError) return;
        // Refused (retracted, no longer visible…): nothing to keep for this one.
      }
    }
  });
}

async function keepDocument({ id, version }: StudyDocument): Promise<void> {
  const detailPath = `/api/v1/documents/${id}`;
  const textPath = `${detailPath}/text`;
  let detail = await recall<DocumentDetail>(readKey(detailPath));
  const stale = !detail || detail.current_version < version;
  if (stale) {
    detail = await api<DocumentDetail>("GET", detailPath);
    await remember(readKey(detailPath), detail);
  }
  if (!detail) return;
  if (stale || (await recall<DocumentText>(readKey(textPath))) === undefined) {
    try {
      await remember(readKey(textPath), await api<DocumentText>("GET", textPath));
    } catch (error) {
      // No text extracted (yet): the reader says so; the file is still worth keeping.
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }
  if ((await keptFile(id))?.version !== detail.current_version) await fetchFile(id);
}

// ── writes made offline ────────────────────────────────────────────────────────────────────

export interface QueuedWrite {
  key: string; // idempotency key: one write, sent at most once
  member: string;
  method: "POST" | "PUT";
  path: string;
  body: unknown;
  created: number;
}

function newKey(): string {
  return crypto.randomUUID();
}

async function countWaiting(): Promise<number> {
  if (!member) return 0;
  const index = (await store(QUEUE, "readonly")).index("member");
  return done(index.count(member));
}

async function refreshWaiting(): Promise<void> {
  setState({ waiting: await countWaiting() });
}

/** Send now; when the network is gone, keep it on the device and send it later.
 * Returns the server's answer, or null when the write was queued. */
export async function write<T>(method: "POST" | "PUT", path: string, body: unknown): Promise<T | null> {
  const key = newKey();
  try {
    const answer = await api<T>(method, path, { body, headers: { "Idempotency-Key": key } });
    setState({ online: true });
    return answer;
  } catch (error) {
    if (!(error instanceof NetworkError) || !member) throw error;
    const entry: QueuedWrite = { key, member, method, path, body, created: Date.now() };
    await done((await store(QUEUE, "readwrite")).put(entry));
    setState({ online: false });
    await refreshWaiting();
    return null;
  }
}

let flushing: Promise<void> | null = null;

/** Send this member's waiting writes in the order they were made. Each leaves the queue as soon as
 * the server has answered it (success or a refusal that a retry cannot change), so none is sent
 * twice; a network failure stops the run and leaves the rest for the next `online`/start. */
export function flush(): Promise<void> {
  const run = async () => {
    if (!member) return;
    const index = (await store(QUEUE, "readonly")).index("member");
    const entries = ((await done(index.getAll(member))) as QueuedWrite[]).sort(
      (a, b) => a.created - b.created,
    );
    for (const entry of entries) {
      try {
        await api(entry.method, entry.path, {
          body: entry.body,
          headers: { "Idempotency-Key": entry.key },
        });
      } catch (error) {
        if (error instanceof NetworkError) break;
        if (!(error instanceof ApiError)) throw error;
      }
      await done((await store(QUEUE, "readwrite")).delete(entry.key));
      setState({ online: true });
    }
    await refreshWaiting();
  };
  // One tab at a time sends the queue (navigator.locks where the browser has it).
  const exclusive = async (): Promise<void> => {
    if (navigator.locks) await navigator.locks.request("sotay-queue", run);
    else await run();
  };
  const running: Promise<void> =
    flushing ??
    exclusive().finally(() => {
      flushing = null;
    });
  flushing = running;
  return running;
}

export function watchNetwork(): void {
  window.addEventListener("online", () => {
    setState({ online: true });
    void flush();
  });
  window.addEventListener("offline", () => setState({ online: false }));
  void refreshWaiting();
}

/** Sign-out: nothing of this member stays on the device (data, queued writes, cached files). */
export async function eraseMember(id: string): Promise<void> {
  const data = await store(DATA, "readwrite");
  await done(data.delete(IDBKeyRange.bound(`${id}|`, `${id}|\uffff`)));
  const queue = await store(QUEUE, "readwrite");
  for (const key of await done(queue.index("member").getAllKeys(id))) {
    await done((await store(QUEUE, "readwrite")).delete(key));
  }
  await caches.delete(FILES_CACHE_PREFIX + id);
  if (member === id) setMember(null);
  setState({ waiting: 0, servedFromDevice: false });
}
