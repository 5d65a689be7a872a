// One fetch wrapper for the whole API. The access token lives in this module's memory only; the
// refresh token never reaches script: identity keeps it in an HttpOnly, SameSite=Strict cookie
// scoped to /api/v1/auth, and login/refresh/logout are sent with the browser-mode header, which
// a cross-site form cannot set.
import { t } from "../i18n/vi";

const BROWSER = { "X-Sotay-Client": "web" };

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
}

/** An API answer that is not 2xx, carrying its problem+json as the member will read it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail || problem.title || String(status));
  }
  get slug(): string {
    return (this.problem.type ?? "").split("/").pop() ?? "";
  }
}

/** The network could not be reached (offline, gateway down). */
export class NetworkError extends Error {
  constructor() {
    super(t.errors.network);
  }
}

let accessToken: string | null = null;
let onSignedOut: () => void = () => {};
let refreshing: Promise<boolean> | null = null;

export function setSignedOutHandler(handler: () => void): void {
  onSignedOut = handler;
}

export function hasSession(): boolean {
  return accessToken !== null;
}

export function bearer(): string | null {
  return accessToken;
}

interface TokenResponse {
  access_token: string;
  expires_in: number;
}

async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, { credentials: "same-origin", ...init });
  } catch {
    throw new NetworkError();
  }
}

async function problemOf(response: Response): Promise<ApiError> {
  let problem: Problem = {};
  try {
    problem = (await response.json()) as Problem;
  } catch {
    problem = { title: t.errors.unknownTitle, detail: t.errors.unknownDetail };
  }
  return new ApiError(response.status, problem);
}

/** Exchange the refresh cookie for a new access token. False when there is no valid session. */
export function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const r = await send("/api/v1/auth/refresh", {
        method: "POST",
        headers: BROWSER,
      });
      if (!r.ok) {
        accessToken = null;
        return false;
      }
      accessToken = ((await r.json()) as TokenResponse).access_token;
      return true;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export interface LoginInput {
  username: string;
  password: string;
  otp?: string;
}

export async function login(input: LoginInput): Promise<void> {
  const r = await send("/api/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...BROWSER },
    body: JSON.stringify(input),
  });
  if (!r.ok) throw await problemOf(r);
  accessToken = ((await r.json()) as TokenResponse).access_token;
}

/** Sign out this device (the cookie's token family), or every device of the member. */
export async function logout(everywhere: boolean): Promise<void> {
  try {
    await send("/api/v1/auth/logout", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...BROWSER },
      body: JSON.stringify({ all_devices: everywhere }),
    });
  } catch {
    // Offline: the local session and data are erased all the same.
  } finally {
    accessToken = null;
  }
}

type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** Reads the answer's headers (its ETag, for instance). */
  onHeaders?: (headers: Headers) => void;
}

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== "" && v !== false) params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

/** An authenticated call; refreshes the access token once on 401. */
export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const url = withQuery(path, options.query);
  const attempt = () => {
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    return send(url, { method, headers, body });
  };
  let r = await attempt();
  if (r.status === 401 && (await refresh())) r = await attempt();
  if (r.status === 401) {
    accessToken = null;
    onSignedOut();
  }
  if (r.status === 304 && options.headers?.["If-None-Match"]) {
    options.onHeaders?.(r.headers);
    return undefined as T;
  }
  if (!r.ok) throw await problemOf(r);
  options.onHeaders?.(r.headers);
  if (r.status === 204) return undefined as T;
  return (await r.json()) as T;
}

/** A GET revalidated with the ETag of the previous answer (kept in `tag`): `null` when the
 *  server answered 304 (nothing changed; no body sent, nothing to parse or redraw). */
export async function getIfChanged<T>(path: string, tag: { current: string | null }): Promise<T | null> {
  const body = await api<T | undefined>("GET", path, {
    headers: tag.current ? { "If-None-Match": tag.current } : undefined,
    onHeaders: (h) => {
      tag.current = h.get("ETag");
    },
  });
  return body ?? null;
}

export const get = <T>(path: string, query?: Query) => api<T>("GET", path, { query });
export const post = <T>(path: string, body?: unknown) => api<T>("POST", path, { body });
export const put = <T>(path: string, body?: unknown) => api<T>("PUT", path, { body });
export const del = <T>(path: string) => api<T>("DELETE", path);

/** Unauthenticated password change: the first login with the activation code. */
export async function setFirstPassword(username: string, current: string, next: string): Promise<void> {
  const r = await send("/api/v1/auth/password", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, current_password: current, new_password: next }),
  });
  if (!r.ok) throw await problemOf(r);
}

/** What the member reads for any failure: the problem's Vietnamese title and detail. */
export function describe(error: unknown): { title: string; detail: string } {
  if (error instanceof ApiError) {
    return {
      title: error.problem.title || t.errors.unknownTitle,
      detail: error.problem.detail || "",
    };
  }
  if (error instanceof NetworkError) return { title: t.errors.networkTitle, detail: t.errors.network };
  return { title: t.errors.unknownTitle, detail: t.errors.unknownDetail };
}
