// CSV import: identity checks every row and imports all or nothing. A rejected file comes back
// with {row, column, reason} per problem; the rows are shown from the file itself (parsed here
// as the server reads it) with their errors beside them, and the list downloads as CSV.
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, get } from "../../api/client";
import { ErrorBox, Screen } from "../../ui/common";
import { addToSheet, upload, type ImportResult, type OrgOut, type OrgRef } from "./api";
import { parseCsv, toCsv } from "./csv";
import { Back, Download, OrgPicker } from "./ui";
import { v } from "./vi";

interface RowError {
  row: number;
  column: string | null;
  reason: string;
}

interface Rejected {
  rows: string[][];
  errors: RowError[];
  count: number;
}

export function Import() {
  const [cell, setCell] = useState<OrgRef | null>(null);
  const [rejected, setRejected] = useState<Rejected | null>(null);
  const [imported, setImported] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    // Coming from an org's screen: /manage/admin/import?cell=<id>
    const id = new URLSearchParams(location.search).get("cell");
    if (id) get<OrgOut>(`/api/v1/orgs/${id}`).then((o) => setCell(o), setError);
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    const input = (event.currentTarget as HTMLFormElement).elements.namedItem("file") as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    setBusy(true);
    setError(null);
    setRejected(null);
    setImported(null);
    try {
      const path = `/api/v1/members/import${cell ? `?cell_id=${encodeURIComponent(cell.id)}` : ""}`;
      const result = await upload<ImportResult>(path, file, "text/csv");
      addToSheet(result.accounts.map((a) => ({ ...a, expires_at: result.activation_expires_at })));
      setImported(result.imported);
      input.value = "";
    } catch (e) {
      if (e instanceof ApiError && e.slug === "import-rejected") {
        const problem = e.problem as { errors?: RowError[]; error_count?: number };
        const errors = problem.errors ?? [];
        setRejected({ rows: parseCsv(await file.text()), errors, count: problem.error_count ?? errors.length });
      } else setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Screen title={v.sections.import.title}>
      <Back />
      <p>{v.import.intro}</p>
      <form class="stack card" onSubmit={submit}>
        <OrgPicker id="import-cell" label={v.import.cell} value={cell} onChange={setCell} cellsOnly />
        <label for="import-file">{v.import.file}</label>
        <input id="import-file" name="file" type="file" accept=".csv,text/csv" required />
        <button type="submit" class="button" disabled={busy}>
          {busy ? v.working : v.import.submit}
        </button>
      </form>
      {error !== null && <ErrorBox error={error} />}
      {imported !== null && (
        <div class="stack" role="status">
          <p>{v.import.done(imported)}</p>
          <p>
            <a class="button" href="/manage/admin/sheet">
              {v.members.openSheet}
            </a>
          </p>
        </div>
      )}
      {rejected && <RejectedRows rejected={rejected} />}
    </Screen>
  );
}

function RejectedRows({ rejected }: { rejected: Rejected }) {
  const { rows, errors, count } = rejected;
  const header = rows[0] ?? [];
  const byRow = useMemo(() => {
    const map = new Map<number, RowError[]>();
    for (const e of errors) map.set(e.row, [...(map.get(e.row) ?? []), e]);
    return [...map.entries()].sort((a, b) => a[0] - b[0]);
  }, [errors]);
  const report = useMemo(
    () =>
      toCsv([
        [v.import.row, v.import.column, v.import.error, ...header],
        ...errors.map((e) => [String(e.row), e.column ?? "", e.reason, ...(rows[e.row - 1] ?? [])]),
      ]),
    [rejected],
  );
  const width = Math.max(header.length, ...byRow.map(([row]) => (rows[row - 1] ?? []).length));
  return (
    <section class="stack" aria-labelledby="import-rejected">
      <p id="import-rejected" class="problem" role="alert">
        {v.import.rejected(count)}
      </p>
      <p>
        <Download blob={report} filename={v.import.errorsFile}>
          {v.import.download}
        </Download>
      </p>
      <div class="table-wrap" tabIndex={0} role="region" aria-labelledby="import-rows-caption">
        <table class="rows">
          <caption id="import-rows-caption">{v.import.rowsCaption}</caption>
          <thead>
            <tr>
              <th scope="col">{v.import.row}</th>
              {Array.from({ length: width }, (_, i) => (
                <th scope="col" key={i}>
                  {header[i] ?? ""}
                </th>
              ))}
              <th scope="col">{v.import.error}</th>
            </tr>
          </thead>
          <tbody>
            {byRow.map(([row, errs]) => {
              const values = rows[row - 1] ?? [];
              const bad = new Set(errs.map((e) => e.column));
              return (
                <tr key={row} data-row={row}>
                  <th scope="row">{row}</th>
                  {Array.from({ length: width }, (_, i) => (
                    <td key={i} class={bad.has(header[i]?.trim() ?? null) ? "bad" : undefined}>
                      {values[i] ?? ""}
                    </td>
                  ))}
                  <td class="reason">
                    {errs.map((e, i) => (
                      <span key={i} class="reason-line">
                        {e.column ? `${e.column}: ` : ""}
                        {e.reason}
                      </span>
                    ))}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
