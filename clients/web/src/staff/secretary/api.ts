// The API shapes and calls the secretary screens use (types generated from the OpenAPI dumps).
import { bearer, get, refresh } from "../../api/client";
import type { components as Documents } from "../../api/generated/documents";
import type { components as Meetings } from "../../api/generated/meetings";
import type { CellMate, Page } from "../../api/types";

export type Meeting = Meetings["schemas"]["MeetingOut"];
export type MeetingSummary = Meetings["schemas"]["MeetingSummary"];
export type MeetingCreate = Meetings["schemas"]["MeetingCreate"];
export type MeetingPatch = Meetings["schemas"]["MeetingPatch"];
export type Invitee = Meetings["schemas"]["InviteeOut"];
export type CheckinCode = Meetings["schemas"]["CheckinCodeOut"];
export type AttendanceMark = Meetings["schemas"]["AttendanceMark"];
export type Minutes = Meetings["schemas"]["MinutesOut"];
export type History = Meetings["schemas"]["AttendanceHistory"];
export type MemberAttendance = Meetings["schemas"]["MemberAttendance"];
export type DocumentSummary = Documents["schemas"]["DocumentSummary"];
export type DocumentDetail = Documents["schemas"]["DocumentOut"];
export type StudyReport = Documents["schemas"]["StudyReport"];
export type MemberStudy = Documents["schemas"]["MemberStudy"];
export type RemindOut = Documents["schemas"]["RemindOut"];

/** Every page of a `{items, next_cursor}` list. */
export async function allPages<T>(path: string, query: Record<string, string | number> = {}): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await get<Page<T>>(path, { ...query, limit: 500, cursor });
    items.push(...page.items);
    if (!page.next_cursor) return items;
    cursor = page.next_cursor;
  }
}

/** The secretary's own cell as fellow members know it: id → name and card number. */
export async function cellMates(): Promise<Map<string, CellMate>> {
  const mates = await allPages<CellMate>("/api/v1/me/cell/members");
  return new Map(mates.map((m) => [m.id, m]));
}

/** A person as the screens show them: name (card number), else the roster's label. */
export function nameOf(people: Map<string, CellMate>, id: string, label?: string | null): string {
  const mate = people.get(id);
  if (mate) return `${mate.full_name} (${mate.card_number})`;
  return label || `Đảng viên ${id.slice(0, 8)}`;
}

/** Save an authenticated download (the minutes' DOCX) under the name the API gives. */
export async function download(path: string, fallbackName: string): Promise<void> {
  const attempt = () => {
    const token = bearer();
    return fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {}, credentials: "same-origin" });
  };
  let r = await attempt();
  if (r.status === 401 && (await refresh())) r = await attempt();
  if (!r.ok) {
    // The JSON helpers turn a problem+json answer into an ApiError with its Vietnamese text.
    await get(path);
    return;
  }
  const name = /filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") ?? "")?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** `YYYY-MM` of a date in Vietnam's time, `offset` months later. */
export function monthOf(date: Date, offset = 0): string {
  const [y, m] = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit" })
    .format(date)
    .split("-")
    .map(Number);
  const index = y * 12 + (m - 1) + offset;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
}

/** Vietnam's wall-clock date and time (YYYY-MM-DD, HH:MM) of an instant. */
export function localParts(iso: string | Date): { date: string; time: string } {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: "Asia/Ho_Chi_Minh",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(typeof iso === "string" ? new Date(iso) : iso);
  const p = (type: string) => parts.find((x) => x.type === type)?.value ?? "";
  return { date: `${p("year")}-${p("month")}-${p("day")}`, time: `${p("hour")}:${p("minute")}` };
}

/** An RFC 3339 instant from Vietnam's wall-clock date and time (UTC+7, no daylight saving). */
export function instant(date: string, time: string): string {
  return `${date}T${time}:00+07:00`;
}
