// Pieces the admin screens share: a confirmation dialog, an org picker, a QR code and a
// download link for data made in the page.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { encode } from "uqr";
import { get } from "../../api/client";
import { me } from "../../session";
import { ErrorBox } from "../../ui/common";
import { adminOrgs, CELL_KINDS, type OrgFound, type OrgRef } from "./api";
import { v } from "./vi";

/** An action waiting for the admin's confirmation. */
export interface Pending {
  message: string;
  run: () => Promise<void>;
}

/** A modal dialog that says what is about to happen; the action runs only on "Xác nhận". */
export function Confirm({ pending, onClose }: { pending: Pending | null; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (pending && !dialog.open) {
      setError(null);
      dialog.showModal();
    }
    if (!pending && dialog.open) dialog.close();
  }, [pending]);
  async function go() {
    if (!pending) return;
    setBusy(true);
    setError(null);
    try {
      await pending.run();
      onClose();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-text" onClose={onClose}>
      {pending && (
        <div class="stack">
          <p id="confirm-text">{pending.message}</p>
          {error !== null && <ErrorBox error={error} />}
          <div class="inline">
            <button type="button" class="button" disabled={busy} onClick={go}>
              {busy ? v.working : v.confirm}
            </button>
            <button type="button" class="button secondary" onClick={onClose}>
              {v.cancel}
            </button>
          </div>
        </div>
      )}
    </dialog>
  );
}

export function kindOf(kind: string): string {
  return v.org.kinds[kind] ?? kind;
}

/** Choose an org: one of the admin's own, or one found by name or code (diacritics optional). */
export function OrgPicker({
  id,
  label,
  value,
  onChange,
  cellsOnly = false,
}: {
  id: string;
  label: string;
  value: OrgRef | null;
  onChange: (org: OrgRef | null) => void;
  cellsOnly?: boolean;
}) {
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<OrgFound[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const mine = me.value ? adminOrgs(me.value) : [];
  const fits = (o: { kind: string }) => !cellsOnly || CELL_KINDS.includes(o.kind);
  async function search(event: Event) {
    event.preventDefault();
    if (!query.trim()) return;
    setError(null);
    try {
      setFound(await get<OrgFound[]>("/api/v1/orgs/search", { q: query.trim(), limit: 20 }));
    } catch (e) {
      setError(e);
    }
  }
  if (value) {
    return (
      <div class="picked">
        <span>
          {label}: <strong>{value.title}</strong>
        </span>
        <button type="button" class="button secondary" onClick={() => onChange(null)}>
          {v.org.change}
        </button>
      </div>
    );
  }
  const pick = (o: OrgRef) => {
    setFound(null);
    setQuery("");
    onChange({ id: o.id, title: o.title, kind: o.kind, path: o.path });
  };
  return (
    <fieldset class="picker">
      <legend>{label}</legend>
      {mine.filter(fits).length > 0 && (
        <div class="inline">
          {mine.filter(fits).map((o) => (
            <button key={o.id} type="button" class="button secondary" onClick={() => pick(o)}>
              {o.title}
            </button>
          ))}
        </div>
      )}
      <div class="inline">
        <label class="visually-hidden" for={`${id}-q`}>
          {v.org.search}
        </label>
        <input
          id={`${id}-q`}
          type="search"
          placeholder={v.org.search}
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
          onKeyDown={(e) => e.key === "Enter" && search(e)}
        />
        <button type="button" class="button secondary" onClick={search}>
          {v.org.searchButton}
        </button>
      </div>
      {error !== null && <ErrorBox error={error} />}
      {found && (
        <ul class="plain" aria-label={v.org.choose}>
          {found.filter(fits).length === 0 && <li>{v.none}</li>}
          {found.filter(fits).map((o) => (
            <li key={o.id}>
              <button type="button" class="button link" onClick={() => pick(o)}>
                {o.title}
              </button>{" "}
              <small class="hint">
                {kindOf(o.kind)}
                {o.trail.length > 0 && ` · ${o.trail.map((t) => t.title).join(" › ")}`}
              </small>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}

/** The modules of a QR code as one SVG path (uqr encodes). */
export function qrPath(text: string): { d: string; size: number } {
  const { data } = encode(text, { ecc: "M", border: 2 });
  let d = "";
  data.forEach((row, y) =>
    row.forEach((on, x) => {
      if (on) d += `M${x} ${y}h1v1h-1z`;
    }),
  );
  return { d, size: data.length };
}

/** A QR code as SVG: one path, no inline style (the CSP stays strict). */
export function Qr({ code, label }: { code: { d: string; size: number }; label: string }) {
  return (
    <svg class="qr-code" viewBox={`0 0 ${code.size} ${code.size}`} role="img" aria-label={label} shape-rendering="crispEdges">
      <rect width={code.size} height={code.size} fill="#fff" />
      <path d={code.d} fill="#000" />
    </svg>
  );
}

/** A link that downloads data made in the page (a blob: URL, revoked when it goes away). */
export function Download({ blob, filename, children }: { blob: Blob; filename: string; children: ComponentChildren }) {
  const [url, setUrl] = useState("");
  useEffect(() => {
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return (
    <a class="button secondary download" href={url} download={filename}>
      {children}
    </a>
  );
}

export function Back() {
  return (
    <p>
      <a href="/manage/admin" class="back">
        {v.back}
      </a>
    </p>
  );
}
