// Schedule a meeting (one-off or a monthly series) or change one occurrence: title, kind, date
// and times in Vietnam's time, place, an agenda editor and documents picked from the library.
import { useState } from "preact/hooks";
import { api, get, post } from "../../api/client";
import { ErrorBox, Screen, Show, useAsync } from "../../ui/common";
import { navigate } from "../../ui/router";
import { instant, localParts, type DocumentSummary, type Meeting, type MeetingCreate, type MeetingPatch } from "./api";
import { useCell } from "./Cell";
import { v } from "./vi";

interface Plan {
  title: string;
  kind: string;
  date: string;
  starts: string;
  ends: string;
  location: string;
  agenda: string[];
  documents: { id: string; title: string }[];
  monthly: boolean;
  count: number;
}

function defaultPlan(): Plan {
  const now = localParts(new Date(Date.now() + 24 * 3600_000));
  return {
    title: "Sinh hoạt chi bộ thường kỳ",
    kind: "regular",
    date: now.date,
    starts: "19:30",
    ends: "21:30",
    location: "",
    agenda: [""],
    documents: [],
    monthly: false,
    count: 12,
  };
}

function planOf(m: Meeting, titles: Map<string, string>): Plan {
  const starts = localParts(m.starts_at.utc);
  return {
    title: m.title,
    kind: m.kind,
    date: starts.date,
    starts: starts.time,
    ends: localParts(m.ends_at.utc).time,
    location: m.location,
    agenda: m.agenda.length ? m.agenda : [""],
    documents: m.document_ids.map((id) => ({ id, title: titles.get(id) ?? id })),
    monthly: false,
    count: 12,
  };
}

function AgendaEditor({ items, onChange }: { items: string[]; onChange: (items: string[]) => void }) {
  const set = (i: number, value: string) => onChange(items.map((x, j) => (j === i ? value : x)));
  return (
    <fieldset class="stack">
      <legend>{v.form.agenda}</legend>
      {items.map((item, i) => (
        <div class="agenda-item" key={i}>
          <label for={`agenda-${i}`}>{v.form.agendaItem(i + 1)}</label>
          <div class="inline">
            <input id={`agenda-${i}`} value={item} maxLength={2000} onInput={(e) => set(i, e.currentTarget.value)} />
            {i > 0 && (
              <button
                type="button"
                class="button secondary"
                aria-label={v.form.moveUp(i + 1)}
                onClick={() => onChange(items.map((x, j) => (j === i - 1 ? items[i] : j === i ? items[i - 1] : x)))}
              >
                ↑
              </button>
            )}
            <button
              type="button"
              class="button secondary"
              aria-label={v.form.removeItem(i + 1)}
              onClick={() => onChange(items.length > 1 ? items.filter((_, j) => j !== i) : [""])}
            >
              ✕
            </button>
          </div>
        </div>
      ))}
      <div>
        <button type="button" class="button secondary" onClick={() => onChange([...items, ""])}>
          {v.form.addItem}
        </button>
      </div>
    </fieldset>
  );
}

function DocumentPicker({
  chosen,
  onChange,
}: {
  chosen: { id: string; title: string }[];
  onChange: (docs: { id: string; title: string }[]) => void;
}) {
  const [q, setQ] = useState("");
  const [found, setFound] = useState<DocumentSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  async function search() {
    setError(null);
    try {
      setFound((await get<{ items: DocumentSummary[] }>("/api/v1/documents", { q: q.trim() || undefined, limit: 10 })).items);
    } catch (e) {
      setError(e);
    }
  }
  const label = (d: DocumentSummary) => (d.number ? `${d.number} · ${d.title}` : d.title);
  return (
    <fieldset class="stack">
      <legend>{v.form.documents}</legend>
      {chosen.length > 0 && (
        <ul class="plain" aria-label={v.form.attached}>
          {chosen.map((d) => (
            <li key={d.id} class="inline">
              <span class="grow">{d.title}</span>
              <button
                type="button"
                class="button secondary"
                aria-label={v.form.detach(d.title)}
                onClick={() => onChange(chosen.filter((x) => x.id !== d.id))}
              >
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
      <label for="doc-q">{v.form.searchDocs}</label>
      <div class="inline">
        <input
          id="doc-q"
          type="search"
          value={q}
          autoComplete="off"
          onInput={(e) => setQ(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              void search();
            }
          }}
        />
        <button type="button" class="button secondary" onClick={search}>
          {v.form.search}
        </button>
      </div>
      {error !== null && <ErrorBox error={error} />}
      {found && !found.length && <p>{v.form.noDocs}</p>}
      {found && found.length > 0 && (
        <div class="stack">
          {found.map((d) => (
            <label class="check" key={d.id}>
              <input
                type="checkbox"
                checked={chosen.some((c) => c.id === d.id)}
                onChange={(e) =>
                  onChange(
                    e.currentTarget.checked ? [...chosen, { id: d.id, title: label(d) }] : chosen.filter((c) => c.id !== d.id),
                  )
                }
              />
              {label(d)}
            </label>
          ))}
        </div>
      )}
    </fieldset>
  );
}

function PlanForm({
  initial,
  editing,
  onSubmit,
}: {
  initial: Plan;
  editing: boolean;
  onSubmit: (plan: Plan) => Promise<void>;
}) {
  const [plan, setPlan] = useState<Plan>(initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof Plan>(key: K, value: Plan[K]) => setPlan((p) => ({ ...p, [key]: value }));
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(plan);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="stack" onSubmit={submit}>
      {editing && <p class="hint">{v.form.onlyThis}</p>}
      <label for="m-title">{v.form.title}</label>
      <input id="m-title" required maxLength={300} value={plan.title} onInput={(e) => set("title", e.currentTarget.value)} />
      <label for="m-kind">{v.form.kind}</label>
      <select id="m-kind" value={plan.kind} onChange={(e) => set("kind", e.currentTarget.value)}>
        {Object.entries(v.form.kinds).map(([k, label]) => (
          <option key={k} value={k}>
            {label}
          </option>
        ))}
      </select>
      <label for="m-date">{v.form.date}</label>
      <input id="m-date" type="date" required value={plan.date} onInput={(e) => set("date", e.currentTarget.value)} />
      <div class="two">
        <div class="stack">
          <label for="m-starts">{v.form.starts}</label>
          <input id="m-starts" type="time" required value={plan.starts} onInput={(e) => set("starts", e.currentTarget.value)} />
        </div>
        <div class="stack">
          <label for="m-ends">{v.form.ends}</label>
          <input id="m-ends" type="time" required value={plan.ends} onInput={(e) => set("ends", e.currentTarget.value)} />
        </div>
      </div>
      <label for="m-location">{v.form.location}</label>
      <input id="m-location" maxLength={300} value={plan.location} onInput={(e) => set("location", e.currentTarget.value)} />
      {!editing && plan.kind === "regular" && (
        <>
          <label class="check">
            <input type="checkbox" checked={plan.monthly} onChange={(e) => set("monthly", e.currentTarget.checked)} />
            {v.form.monthly}
          </label>
          {plan.monthly && (
            <>
              <label for="m-count">{v.form.count}</label>
              <input
                id="m-count"
                type="number"
                inputMode="numeric"
                min={2}
                max={24}
                value={plan.count}
                onInput={(e) => set("count", Number(e.currentTarget.value))}
              />
            </>
          )}
        </>
      )}
      <AgendaEditor items={plan.agenda} onChange={(items) => set("agenda", items)} />
      <DocumentPicker chosen={plan.documents} onChange={(docs) => set("documents", docs)} />
      {error !== null && <ErrorBox error={error} />}
      <button type="submit" class="button" disabled={busy}>
        {editing ? v.form.save : v.form.create}
      </button>
    </form>
  );
}

function times(plan: Plan): { starts_at: string; ends_at: string } {
  return { starts_at: instant(plan.date, plan.starts), ends_at: instant(plan.date, plan.ends) };
}

export function NewMeeting() {
  const cell = useCell();
  if (!cell) return <Screen title={v.form.newTitle}>{v.noCell}</Screen>;
  async function create(plan: Plan) {
    const body: MeetingCreate = {
      org_id: cell!.id,
      kind: plan.kind as MeetingCreate["kind"],
      title: plan.title,
      ...times(plan),
      location: plan.location,
      agenda: plan.agenda.map((a) => a.trim()).filter(Boolean),
      document_ids: plan.documents.map((d) => d.id),
      guest_member_ids: [],
      recurrence: plan.monthly && plan.kind === "regular" ? { freq: "monthly", count: plan.count } : null,
    };
    const answer = await post<{ meetings: Meeting[] }>("/api/v1/meetings", body);
    navigate(`/manage/cell/meetings/${answer.meetings[0].id}`);
  }
  return (
    <Screen title={v.form.newTitle}>
      <p class="meta">
        {v.cell}: {cell.title}
      </p>
      <PlanForm initial={defaultPlan()} editing={false} onSubmit={create} />
    </Screen>
  );
}

async function titlesOf(ids: string[]): Promise<Map<string, string>> {
  const docs = await Promise.all(
    ids.map((id) => get<DocumentSummary>(`/api/v1/documents/${id}`).then((d) => [id, d.number ? `${d.number} · ${d.title}` : d.title] as const, () => [id, id] as const)),
  );
  return new Map(docs);
}

export function EditMeeting({ id }: { id: string }) {
  const data = useAsync(async () => {
    const m = await get<Meeting>(`/api/v1/meetings/${id}`);
    return { m, titles: await titlesOf(m.document_ids) };
  }, [id]);
  async function save(plan: Plan) {
    const body: MeetingPatch = {
      kind: plan.kind as MeetingPatch["kind"],
      title: plan.title,
      ...times(plan),
      location: plan.location,
      agenda: plan.agenda.map((a) => a.trim()).filter(Boolean),
      document_ids: plan.documents.map((d) => d.id),
      refresh_roster: false,
    };
    await api("PATCH", `/api/v1/meetings/${id}`, { body });
    navigate(`/manage/cell/meetings/${id}`);
  }
  return (
    <Screen title={v.form.editTitle}>
      <Show state={data}>{({ m, titles }) => <PlanForm initial={planOf(m, titles)} editing onSubmit={save} />}</Show>
    </Screen>
  );
}
