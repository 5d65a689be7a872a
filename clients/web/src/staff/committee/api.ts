// The committee screens' calls: analytics reports (and their own CSV/XLSX exports), org search,
// and the document upload with progress (XMLHttpRequest: fetch reports no upload progress).
import { ApiError, NetworkError, bearer, get, refresh, type Problem } from "../../api/client";
import type { components as Analytics } from "../../api/generated/analytics";
import type { components as Documents } from "../../api/generated/documents";
import type { components as Identity } from "../../api/generated/identity";

export type Report = Analytics["schemas"]["ReportOut"] & {
  targets?: Record<string, number>;
  // Document reach: publications whose audience is still being written (numbers partial).
  projecting?: number;
};
export type Column = Analytics["schemas"]["ColumnOut"];
export type Row = Report["rows"][number];
export type Org = Identity["schemas"]["OrgOut"];
export type OrgFound = Identity["schemas"]["OrgFound"];
export type DocumentOut = Documents["schemas"]["DocumentOut"];
export type Publication = Documents["schemas"]["PublicationOut"];
export type DocumentSummary = Documents["schemas"]["DocumentSummary"];
export type NewsOut = Documents["schemas"]["NewsOut"];
export type Consultation = Documents["schemas"]["ConsultationOut"];
export type ConsultationComment = Documents["schemas"]["CommentOut"];
export type ConsultationSummary = Documents["schemas"]["SummaryOut"];
export type QuizKey = Documents["schemas"]["QuizKeyOut"];
export type StudyReport = Documents["schemas"]["StudyReport"];

export type ReportName = "document-reach" | "attendance" | "adoption" | "lagging" | "grades";
export type Params = Record<string, string | undefined>;

export function report(name: ReportName, params: Params): Promise<Report> {
  return get<Report>(`/api/v1/reports/${name}`, params);
}

/** The API's own export of a report (same parameters, `format=csv|xlsx`), saved as a file. */
export async function downloadReport(name: ReportName, params: Params, format: "csv" | "xlsx"): Promise<void> {
  const query = new URLSearchParams();
  for (const [k, val] of Object.entries({ ...params, format })) if (val) query.set(k, val);
  await downloadFile(`/api/v1/reports/${name}?${query}`, `${name}.${format}`);
}

/** A file the API answers (authenticated), saved under the name its Content-Disposition gives. */
export async function downloadFile(url: string, fallback: string): Promise<void> {
  const attempt = () =>
    fetch(url, { headers: bearer() ? { Authorization: `Bearer ${bearer()}` } : {} }).catch(() => {
      throw new NetworkError();
    });
  let r = await attempt();
  if (r.status === 401 && (await refresh())) r = await attempt();
  if (!r.ok) {
    let problem: Problem = {};
    try {
      problem = (await r.json()) as Problem;
    } catch {
      /* not JSON: the status tells */
    }
    throw new ApiError(r.status, problem);
  }
  const blob = await r.blob();
  const disposition = r.headers.get("content-disposition") ?? "";
  const named = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const filename = named ? decodeURIComponent(named[1]) : fallback;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  link.click();
  window.setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

export function searchOrgs(q: string): Promise<OrgFound[]> {
  return get<OrgFound[]>("/api/v1/orgs/search", { q, limit: 30 });
}

/** POST (or PUT) multipart with upload progress (0–100) reported as the bytes leave. */
export function uploadWithProgress<T>(
  path: string,
  form: FormData,
  onProgress: (pct: number) => void,
  method: "POST" | "PUT" = "POST",
): Promise<T> {
  const once = () =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, path);
      xhr.setRequestHeader("Accept", "application/json");
      const token = bearer();
      if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(Math.floor((e.loaded / e.total) * 100));
      };
      xhr.onload = () => {
        let body: unknown = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          body = null;
        }
        resolve({ status: xhr.status, body });
      };
      xhr.onerror = () => reject(new NetworkError());
      xhr.send(form);
    });
  return (async () => {
    let r = await once();
    if (r.status === 401 && (await refresh())) r = await once();
    if (r.status < 200 || r.status >= 300) throw new ApiError(r.status, (r.body ?? {}) as Problem);
    onProgress(100);
    return r.body as T;
  })();
}

// -- numbers as the screens show them (the test reads them back the same way) ----------------

const INT = new Intl.NumberFormat("vi-VN");
const PCT = new Intl.NumberFormat("vi-VN", { style: "percent", maximumFractionDigits: 1 });
const DATE_TIME = new Intl.DateTimeFormat("vi-VN", {
  dateStyle: "short",
  timeStyle: "short",
  timeZone: "Asia/Ho_Chi_Minh",
});

export function formatValue(value: unknown, kind: string): string {
  if (value === null || value === undefined || value === "") return "—";
  switch (kind) {
    case "int":
      return typeof value === "number" ? INT.format(value) : String(value);
    case "ratio":
      return typeof value === "number" ? PCT.format(value) : String(value);
    case "bool":
      return value ? "Có" : "Không";
    case "datetime":
      return DATE_TIME.format(new Date(String(value)));
    case "month": {
      const [y, m] = String(value).split("-");
      return `${m}/${y}`;
    }
    default:
      return String(value);
  }
}

export function pct(value: number): string {
  return PCT.format(value);
}
