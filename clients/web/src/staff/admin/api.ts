// The identity API as the admin screens use it: types from the generated OpenAPI types, the CSV
// upload (a raw text/csv body, which the JSON helper of api/client.ts does not send), and the
// activation cards of this page — kept in memory only, never in storage.
import { signal } from "@preact/signals";
import { ApiError, bearer, NetworkError, refresh, type Problem } from "../../api/client";
import type { components } from "../../api/generated/identity";
import type { Me } from "../../api/types";

type S = components["schemas"];
export type MemberOut = S["MemberOut"];
export type MemberCreated = S["MemberCreated"];
export type OrgMember = S["OrgMemberOut"];
export type OrgOut = S["OrgOut"];
export type OrgFound = S["OrgFound"];
export type Grant = S["GrantOut"];
export type ImportResult = S["ImportResult"];
export type Activation = S["ActivationOut"];
export type Reissued = S["ActivationReissued"];
export type AuditPage = { items: AuditEntry[]; next_cursor: string | null };
export type AuditEntry = {
  seq: number;
  at: string;
  actor_id: string | null;
  action: string;
  target: string | null;
  source: string | null;
  outcome: string;
  details: Record<string, unknown>;
};
export type Chain = { ok: boolean; entries: number; first_broken_seq: number | null };

/** An org as the screens pass it around (from the profile's roles, a search or the API). */
export interface OrgRef {
  id: string;
  title: string;
  kind: string;
  path?: string;
}

export const ADMIN_ROLES = ["org_admin", "operator"];

export function adminOrgs(me: Me): OrgRef[] {
  const seen = new Set<string>();
  return me.roles
    .filter((r) => ADMIN_ROLES.includes(r.role))
    .map((r) => r.org)
    .filter((o) => !seen.has(o.id) && seen.add(o.id) !== undefined);
}

/** A root operator (operator on a node without a parent) reads the services' audit logs. */
export function isRootOperator(me: Me): boolean {
  return me.roles.some((r) => r.role === "operator" && !r.org.path.includes("."));
}

export const CELL_KINDS = ["cell", "grassroots_cell"];

/** A raw upload with the session's token (refreshed once on 401); problems as ApiError. */
export async function upload<T>(path: string, body: Blob, contentType: string): Promise<T> {
  const attempt = async () => {
    const headers: Record<string, string> = { Accept: "application/json", "Content-Type": contentType };
    const token = bearer();
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await fetch(path, { method: "POST", headers, body, credentials: "same-origin" });
    } catch {
      throw new NetworkError();
    }
  };
  let r = await attempt();
  if (r.status === 401 && (await refresh())) r = await attempt();
  if (!r.ok) {
    let problem: Problem = {};
    try {
      problem = (await r.json()) as Problem;
    } catch {
      problem = {};
    }
    throw new ApiError(r.status, problem);
  }
  return (await r.json()) as T;
}

/** One card of the activation sheet. */
export interface SheetCard {
  member_id: string;
  full_name: string;
  card_number: string;
  activation_code: string;
  expires_at: string;
}

/** The activation cards of this page's life: codes exist nowhere else (identity keeps hashes). */
export const sheet = signal<SheetCard[]>([]);

export function addToSheet(cards: SheetCard[]): void {
  const fresh = new Set(cards.map((c) => c.member_id));
  sheet.value = [...sheet.value.filter((c) => !fresh.has(c.member_id)), ...cards];
}

/** Vietnam's today as YYYY-MM-DD (the services' dates are Vietnam's days). */
export function todayVN(): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Ho_Chi_Minh" }).format(new Date());
}
