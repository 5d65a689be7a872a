// CSV as identity's import reads it (services/identity/…/members/importer.py): the delimiter is
// whichever of comma, semicolon or tab the header line uses most, quotes as RFC 4180, and row
// numbers count records (the header is row 1), so the server's row numbers point at these rows.

export function delimiterOf(text: string): string {
  const first = text.split("\n", 1)[0];
  let best = ",";
  let most = 0;
  for (const d of [",", ";", "\t"]) {
    const n = first.split(d).length - 1;
    if (n > most) [best, most] = [d, n];
  }
  return best;
}

/** The records of `text`; record i is row i + 1 of the server's report. */
export function parseCsv(text: string): string[][] {
  const s = text.replace(/^\ufeff/, "");
  const d = delimiterOf(s);
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c !== '"') cell += c;
      else if (s[i + 1] === '"') {
        cell += '"';
        i++;
      } else quoted = false;
    } else if (c === '"' && cell === "") quoted = true;
    else if (c === d) {
      row.push(cell);
      cell = "";
    } else if (c === "\r" || c === "\n") {
      if (c === "\r" && s[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

// A cell that a spreadsheet would run as a formula is written as text.
const FORMULA = /^[=+\-@\t\r]/;

function quote(value: string): string {
  const safe = FORMULA.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** UTF-8 CSV with a byte-order mark (Excel opens it as UTF-8 only with one). */
export function toCsv(rows: string[][]): Blob {
  const text = rows.map((r) => r.map(quote).join(",")).join("\r\n") + "\r\n";
  return new Blob(["\ufeff", text], { type: "text/csv;charset=utf-8" });
}
