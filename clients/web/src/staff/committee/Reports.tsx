// The dashboards: one analytics report per screen for the org in `?org=` (default: the caller's
// widest committee org), a chart, the report's own table with its total (drill down through each
// org row) and the API's CSV/XLSX exports of exactly what is shown.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { get } from "../../api/client";
import type { Page } from "../../api/types";
import { ErrorBox, Screen, Show, useAsync } from "../../ui/common";
import { navigate, useLocation } from "../../ui/router";
import { BarChart, type ChartSeries } from "./Chart";
import { OrgNav, myOrgs } from "./OrgNav";
import {
  downloadReport,
  formatValue,
  report,
  type Column,
  type DocumentOut,
  type DocumentSummary,
  type Org,
  type Params,
  type Report,
  type ReportName,
  type Row,
} from "./api";
import { v } from "./vi";

export type Dashboard = "reach" | "attendance" | "adoption" | "lagging" | "grades";

const REPORT: Record<Dashboard, ReportName> = {
  reach: "document-reach",
  attendance: "attendance",
  adoption: "adoption",
  lagging: "lagging",
  grades: "grades",
};

// Columns that only locate a row for the API (kept in the exports, not shown).
const HIDDEN = new Set(["org_path", "org_id", "kind_code"]);

function query(): URLSearchParams {
  return new URL(location.href).searchParams;
}

/** The current screen's URL with some parameters changed (undefined or "" removes one). */
export function withParams(changes: Params): string {
  const url = new URL(location.href);
  for (const [k, val] of Object.entries(changes)) {
    if (val) url.searchParams.set(k, val);
    else url.searchParams.delete(k);
  }
  return url.pathname + url.search;
}

export function currentOrg(): string {
  return query().get("org") ?? myOrgs()[0]?.id ?? "";
}

/** Navigator beside the screen on a desktop, above it (folded) on a phone. */
export function Frame({ title, org, children }: { title: string; org: string; children: ComponentChildren }) {
  return (
    <Screen title={title}>
      <div class="committee">
        <details class="nav-panel" open={window.matchMedia("(min-width: 64rem)").matches}>
          <summary>{v.nav.label}</summary>
          <OrgNav current={org} hrefFor={(id) => withParams({ org: id })} />
        </details>
        <div class="committee-main">{children}</div>
      </div>
    </Screen>
  );
}

function visibleColumns(r: Report): Column[] {
  const named = r.columns.some((c) => c.key === "full_name");
  return r.columns.filter((c) => !HIDDEN.has(c.key) && !(named && c.key === "member_id"));
}

function RowLabel({ row, column }: { row: Row; column: Column }) {
  const text = formatValue(row[column.key], column.kind);
  if (column.key === "org_title" && typeof row.org_id === "string") {
    if (row.org_self) return <>{`${text} ${v.report.self}`}</>;
    return (
      <a href={withParams({ org: row.org_id })} aria-label={v.report.drill(text)}>
        {text}
      </a>
    );
  }
  return <>{text}</>;
}

export function ReportTable({ r }: { r: Report }) {
  const cols = visibleColumns(r);
  if (r.rows.length === 0) return <p>{v.report.empty}</p>;
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={r.title}>
      <table class="report" data-report={r.report}>
        <caption class="visually-hidden">{r.title}</caption>
        <thead>
          <tr>
            {cols.map((c) => (
              <th key={c.key} scope="col" data-key={c.key} class={c.kind === "text" || c.kind === "month" ? "" : "num"}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {r.rows.map((row, i) => (
            <tr key={i}>
              {cols.map((c, j) => {
                const Cell = j === 0 ? "th" : "td";
                return (
                  <Cell key={c.key} scope={j === 0 ? "row" : undefined} data-key={c.key} class={c.kind === "text" || c.kind === "month" ? "" : "num"}>
                    <RowLabel row={row} column={c} />
                  </Cell>
                );
              })}
            </tr>
          ))}
        </tbody>
        {r.total && (
          <tfoot>
            <tr class="total">
              {cols.map((c, j) => {
                const Cell = j === 0 ? "th" : "td";
                const val = r.total?.[c.key];
                return (
                  <Cell key={c.key} scope={j === 0 ? "row" : undefined} data-key={c.key} class={c.kind === "text" || c.kind === "month" ? "" : "num"}>
                    {j === 0 ? v.report.total : val === undefined ? "" : formatValue(val, c.kind)}
                  </Cell>
                );
              })}
            </tr>
          </tfoot>
        )}
      </table>
    </div>
  );
}

function Downloads({ name, params }: { name: ReportName; params: Params }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function save(format: "csv" | "xlsx") {
    setBusy(true);
    setError(null);
    try {
      await downloadReport(name, params, format);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="toolbar" role="group" aria-label={v.report.download}>
      <button type="button" class="button secondary" disabled={busy} onClick={() => void save("csv")}>
        {v.report.csv}
      </button>
      <button type="button" class="button secondary" disabled={busy} onClick={() => void save("xlsx")}>
        {v.report.xlsx}
      </button>
      {error && <ErrorBox error={error} />}
    </div>
  );
}

/** Where the report's org sits: its title, and the way up while still inside one's grants. */
function Place({ r }: { r: Report }) {
  const org = r.org as { org_id?: string; org_title?: string; org_path?: string; org_kind?: string } | null;
  const id = org?.org_id;
  const mine = myOrgs();
  const atRoot = !id || mine.some((m) => m.id === id);
  const parent = useAsync(() => (atRoot || !id ? Promise.resolve(null) : get<Org>(`/api/v1/orgs/${id}`)), [id, atRoot]);
  if (!org) return null;
  return (
    <div class="place">
      <p>
        {v.nav.current}: <strong data-testid="report-org">{org.org_title}</strong>{" "}
        <span class="muted">({v.kinds[org.org_kind ?? ""] ?? org.org_kind})</span>
      </p>
      {parent.data?.parent_id && (
        <a class="button secondary" href={withParams({ org: parent.data.parent_id })}>
          ↑ {v.nav.up}
        </a>
      )}
    </div>
  );
}

function MonthFields({ from, to, minUnexcused }: { from: string; to: string; minUnexcused?: string }) {
  const [f, setF] = useState(from);
  const [t, setT] = useState(to);
  const [min, setMin] = useState(minUnexcused ?? "");
  return (
    <form
      class="period"
      onSubmit={(e) => {
        e.preventDefault();
        navigate(withParams({ from: f, to: t, min_unexcused: minUnexcused === undefined ? undefined : min }));
      }}
    >
      <fieldset>
        <legend>{v.report.period}</legend>
        <div class="inline">
          <label for="period-from">{v.report.from}</label>
          <input id="period-from" type="month" value={f} onInput={(e) => setF(e.currentTarget.value)} />
          <label for="period-to">{v.report.to}</label>
          <input id="period-to" type="month" value={t} onInput={(e) => setT(e.currentTarget.value)} />
          {minUnexcused !== undefined && (
            <>
              <label for="min-unexcused">{v.report.minUnexcused}</label>
              <input id="min-unexcused" type="number" min={1} max={100} value={min} onInput={(e) => setMin(e.currentTarget.value)} />
            </>
          )}
          <button type="submit" class="button secondary">
            {v.report.apply}
          </button>
        </div>
      </fieldset>
    </form>
  );
}

function DocumentPicker({ documentId, publicationId }: { documentId: string; publicationId: string }) {
  const docs = useAsync(() => get<Page<DocumentSummary>>("/api/v1/documents", { limit: 50 }), []);
  const doc = useAsync(
    () => (documentId ? get<DocumentOut>(`/api/v1/documents/${documentId}`) : Promise.resolve(null)),
    [documentId],
  );
  return (
    <div class="pickers">
      <div class="stack">
        <label for="pick-document">{v.report.document}</label>
        <select
          id="pick-document"
          value={documentId}
          onChange={(e) => navigate(withParams({ document_id: e.currentTarget.value, publication_id: undefined }))}
        >
          <option value="">{v.report.allDocuments}</option>
          {docs.data?.items.map((d) => (
            <option key={d.id} value={d.id}>
              {[d.number, d.title].filter(Boolean).join(" · ")}
            </option>
          ))}
        </select>
      </div>
      {doc.data && doc.data.publications.length > 0 && (
        <div class="stack">
          <label for="pick-publication">{v.report.publication}</label>
          <select id="pick-publication" value={publicationId} onChange={(e) => navigate(withParams({ publication_id: e.currentTarget.value }))}>
            <option value="">{v.report.allPublications}</option>
            {doc.data.publications.map((p) => (
              <option key={p.id} value={p.id}>
                {formatValue(p.published_at, "datetime")} · {v.documents.audience(p.audience_size)}
                {p.retracted_at ? ` · ${v.documents.retracted}` : ""}
              </option>
            ))}
          </select>
        </div>
      )}
    </div>
  );
}

function num(x: unknown): number {
  return typeof x === "number" ? x : 0;
}

function title(row: Row): string {
  return String(row.org_title ?? row.full_name ?? row.member_id ?? "");
}

function ReachChart({ r }: { r: Report }) {
  const t = r.total ?? {};
  const series: ChartSeries[] = [
    { label: v.report.members, values: [num(t.audience), num(t.opened), num(t.studied), num(t.passed)] },
  ];
  return (
    <>
      <BarChart
        label={`${r.title}: ${v.series.audience} ${num(t.audience)}, ${v.series.opened} ${num(t.opened)}, ${v.series.studied} ${num(t.studied)}, ${v.series.passed} ${num(t.passed)}`}
        categories={[v.series.audience, v.series.opened, v.series.studied, v.series.passed]}
        series={series}
        height={220}
      />
      {r.level === "org" && r.rows.length > 0 && (
        <BarChart
          label={`${r.title}: tỷ lệ đã mở và đã học tập theo tổ chức (xem bảng)`}
          categories={r.rows.map(title)}
          series={[
            { label: v.series.opened, values: r.rows.map((x) => (x.opened_ratio as number | null) ?? null) },
            { label: v.series.studied, values: r.rows.map((x) => (x.studied_ratio as number | null) ?? null) },
          ]}
          ratio
        />
      )}
    </>
  );
}

/** Sums of the report's rows per month (the chart of attendance by month, with its table). */
function byMonth(r: Report): { month: string; attending: number; base: number; held: number }[] {
  const out = new Map<string, { month: string; attending: number; base: number; held: number }>();
  for (const row of r.rows) {
    const m = String(row.month);
    const cur = out.get(m) ?? { month: m, attending: 0, base: 0, held: 0 };
    cur.attending += num(row.present) + num(row.late);
    cur.base += r.level === "member" ? num(row.meetings_invited) : num(row.invited) - num(row.exempt);
    cur.held += num(row.meetings_held);
    out.set(m, cur);
  }
  return [...out.values()].sort((a, b) => a.month.localeCompare(b.month));
}

function AttendanceChart({ r }: { r: Report }) {
  const months = byMonth(r);
  if (months.length === 0) return null;
  const rates = months.map((m) => (m.base ? Math.round((m.attending / m.base) * 10000) / 10000 : null));
  return (
    <>
      <BarChart
        label={`${r.title}: tỷ lệ tham dự theo tháng (số liệu trong bảng bên dưới)`}
        categories={months.map((m) => formatValue(m.month, "month"))}
        series={[{ label: "Tỷ lệ tham dự", values: rates }]}
        ratio
      />
      <details>
        <summary>{v.report.chartData}</summary>
        <table class="report">
          <thead>
            <tr>
              <th scope="col">{v.report.month}</th>
              <th scope="col" class="num">
                Tỷ lệ tham dự
              </th>
            </tr>
          </thead>
          <tbody>
            {months.map((m, i) => (
              <tr key={m.month}>
                <th scope="row">{formatValue(m.month, "month")}</th>
                <td class="num">{formatValue(rates[i], "ratio")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}

const ADOPTION_KEYS = [
  ["orgs_using_ratio", "Tổ chức sử dụng"],
  ["activated_ratio", "Đảng viên kích hoạt"],
  ["active_ratio", "Sử dụng thường xuyên"],
] as const;

function AdoptionChart({ r }: { r: Report }) {
  const t = r.total ?? {};
  const targets = r.targets ?? {};
  const keys = ADOPTION_KEYS.filter(([k]) => k in t);
  return (
    <>
      <BarChart
        label={`${r.title}: ${keys.map(([k, l]) => `${l} ${formatValue(t[k], "ratio")}, ${v.report.target(formatValue(targets[k], "ratio"))}`).join("; ")}`}
        categories={keys.map(([, l]) => l)}
        series={[
          { label: v.series.actual, values: keys.map(([k]) => (t[k] as number | null) ?? null) },
          { label: v.series.target, values: keys.map(([k]) => targets[k] ?? null), as: "marks" },
        ]}
        ratio
      />
      <ul class="targets">
        {keys.map(([k, l]) => {
          const actual = t[k] as number | null;
          const goal = targets[k];
          const ok = actual !== null && goal !== undefined && actual >= goal;
          return (
            <li key={k} class={ok ? "ok" : "short"}>
              <strong>{l}</strong>: <span data-key={k}>{formatValue(actual, "ratio")}</span> (
              {v.report.target(formatValue(goal, "ratio"))}) — {ok ? v.report.reached : v.report.notReached}
            </li>
          );
        })}
      </ul>
    </>
  );
}

export function ReportScreen({ dashboard }: { dashboard: Dashboard }) {
  // Subscribed to navigation: a change of `?org=` or of the period keeps the path, and the
  // parents of this screen do not render again for a change of the query alone.
  useLocation();
  const q = query();
  const org = currentOrg();
  const name = REPORT[dashboard];
  const params: Params = { org_id: org || undefined };
  if (dashboard === "attendance" || dashboard === "lagging") {
    params.from = q.get("from") ?? undefined;
    params.to = q.get("to") ?? undefined;
  }
  if (dashboard === "lagging") params.min_unexcused = q.get("min_unexcused") ?? undefined;
  if (dashboard === "grades") params.year = q.get("year") ?? undefined;
  if (dashboard === "reach") {
    params.document_id = q.get("document_id") ?? undefined;
    params.publication_id = q.get("publication_id") ?? undefined;
  }
  const key = JSON.stringify(params);
  const state = useAsync(() => report(name, params), [key]);
  const heading = v.reports[dashboard].title;
  return (
    <Frame title={heading} org={org}>
      {dashboard === "reach" && (
        <DocumentPicker documentId={params.document_id ?? ""} publicationId={params.publication_id ?? ""} />
      )}
      {(dashboard === "attendance" || dashboard === "lagging") && state.data && (
        <MonthFields
          key={key}
          from={String(state.data.parameters.from ?? "")}
          to={String(state.data.parameters.to ?? "")}
          minUnexcused={dashboard === "lagging" ? String(state.data.parameters.min_unexcused ?? "") : undefined}
        />
      )}
      <Show state={state}>
        {(r) => (
          <section aria-labelledby="report-title" class={state.loading ? "report-body stale" : "report-body"}>
            <Place r={r} />
            <h2 id="report-title">{r.title}</h2>
            <p class="muted">
              {v.report.generated} {formatValue(r.generated_at, "datetime")} · {v.report.rows(r.rows.length)}
            </p>
            {dashboard === "reach" && (r.projecting ?? 0) > 0 && <p role="status">{v.report.projecting(r.projecting ?? 0)}</p>}
            {dashboard === "reach" && <ReachChart r={r} />}
            {dashboard === "attendance" && <AttendanceChart r={r} />}
            {dashboard === "adoption" && <AdoptionChart r={r} />}
            <ReportTable r={r} />
            <Downloads name={name} params={params} />
          </section>
        )}
      </Show>
    </Frame>
  );
}
