// Members of the admin's subtree: search by name (identity folds diacritics), create, edit,
// transfer to another cell, leave the rolls, and a new activation code for a lost sheet.
import { useEffect, useState } from "preact/hooks";
import { api, get, post } from "../../api/client";
import type { Page } from "../../api/types";
import { me } from "../../session";
import { ErrorBox, Screen, Show, useAsync } from "../../ui/common";
import { day } from "../../ui/format";
import {
  addToSheet,
  adminOrgs,
  todayVN,
  type MemberCreated,
  type MemberOut,
  type OrgMember,
  type OrgOut,
  type OrgRef,
  type Reissued,
} from "./api";
import { RecordCard } from "./Record";
import { Back, Confirm, OrgPicker, type Pending } from "./ui";
import { v } from "./vi";

function orgFromUrl(): string | null {
  return new URLSearchParams(location.search).get("org");
}

/** The org named by `?org=` in the URL, else the admin's first. */
function useScope(): [OrgRef | null, (o: OrgRef | null) => void] {
  const [org, setOrg] = useState<OrgRef | null>(() => (me.value ? (adminOrgs(me.value)[0] ?? null) : null));
  useEffect(() => {
    const id = orgFromUrl();
    if (id) get<OrgOut>(`/api/v1/orgs/${id}`).then(setOrg, () => {});
  }, []);
  return [org, setOrg];
}

export function Members() {
  const [org, setOrg] = useScope();
  const [query, setQuery] = useState(new URLSearchParams(location.search).get("q") ?? "");
  const [submitted, setSubmitted] = useState(query);
  const [items, setItems] = useState<OrgMember[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const list = useAsync(
    () =>
      org
        ? get<Page<OrgMember>>(`/api/v1/orgs/${org.id}/members`, { q: submitted || undefined, limit: 50 })
        : Promise.resolve({ items: [], next_cursor: null } as Page<OrgMember>),
    [org?.id, submitted],
  );
  useEffect(() => {
    if (list.data) {
      setItems(list.data.items);
      setCursor(list.data.next_cursor ?? null);
    }
  }, [list.data]);
  async function more() {
    if (!org || !cursor) return;
    const page = await get<Page<OrgMember>>(`/api/v1/orgs/${org.id}/members`, {
      q: submitted || undefined,
      limit: 50,
      cursor,
    });
    setItems([...items, ...page.items]);
    setCursor(page.next_cursor ?? null);
  }
  return (
    <Screen title={v.sections.members.title}>
      <Back />
      <OrgPicker id="members-org" label={v.org.choose} value={org} onChange={setOrg} />
      <form
        class="inline"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setSubmitted(query.trim());
        }}
      >
        <label class="visually-hidden" for="member-q">
          {v.members.search}
        </label>
        <input
          id="member-q"
          type="search"
          placeholder={v.members.search}
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <button type="submit" class="button">
          {v.members.searchButton}
        </button>
      </form>
      <p>
        <a class="button secondary" href={`/manage/admin/members/new${org ? `?cell=${org.id}` : ""}`}>
          {v.members.add}
        </a>
      </p>
      <Show state={list}>
        {() => (
          <>
            <ul class="list">
              {items.length === 0 && <li>{v.none}</li>}
              {items.map((m) => (
                <li key={m.id}>
                  <a class="row-link" href={`/manage/admin/members/${m.id}`}>
                    <strong>{m.full_name}</strong>
                    <span>
                      {m.card_number} · {v.members.statuses[m.status] ?? m.status} ·{" "}
                      {v.members.memberships[m.membership] ?? m.membership}
                    </span>
                  </a>
                </li>
              ))}
            </ul>
            {cursor && (
              <button type="button" class="button secondary" onClick={more}>
                {v.more}
              </button>
            )}
          </>
        )}
      </Show>
    </Screen>
  );
}

type Fields = Record<string, string>;

function formFields(form: HTMLFormElement): Fields {
  const out: Fields = {};
  new FormData(form).forEach((value, key) => {
    out[key] = String(value).trim();
  });
  return out;
}

function PersonFields({ member }: { member?: MemberOut }) {
  const text = (
    name: string,
    label: string,
    value: string | null | undefined,
    type: "text" | "date" | "tel" | "email" = "text",
    required = false,
  ) => (
    <>
      <label for={`m-${name}`}>
        {label} {!required && <span class="hint">{v.optional}</span>}
      </label>
      <input id={`m-${name}`} name={name} {...({ type } as { type: "text" })} value={value ?? ""} required={required} />
    </>
  );
  return (
    <>
      {text("card_number", v.members.card, member?.card_number, "text", true)}
      {text("full_name", v.members.name, member?.full_name, "text", true)}
      {text("date_of_birth", v.members.dob, member?.date_of_birth, "date")}
      <label for="m-sex">{v.members.sex}</label>
      <select id="m-sex" name="sex" value={member?.sex ?? ""}>
        {Object.entries(v.members.sexes).map(([k, label]) => (
          <option key={k} value={k}>
            {label}
          </option>
        ))}
      </select>
      {text("phone", v.members.phone, member?.phone, "tel")}
      {text("email", v.members.email, member?.email, "email")}
      {text("admitted_on", v.members.admitted, member?.admitted_on, "date")}
      {text("official_on", v.members.official, member?.official_on, "date")}
    </>
  );
}

const OPTIONAL = ["date_of_birth", "sex", "phone", "email", "admitted_on", "official_on"];

export function NewMember() {
  const [cell, setCell] = useState<OrgRef | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<MemberCreated | null>(null);
  useEffect(() => {
    const id = new URLSearchParams(location.search).get("cell");
    if (id) get<OrgOut>(`/api/v1/orgs/${id}`).then((o) => ["cell", "grassroots_cell"].includes(o.kind) && setCell(o), () => {});
  }, []);
  async function submit(event: Event) {
    event.preventDefault();
    if (!cell) return;
    setError(null);
    const f = formFields(event.currentTarget as HTMLFormElement);
    const body: Record<string, string> = { card_number: f.card_number, full_name: f.full_name, cell_id: cell.id };
    for (const k of OPTIONAL) if (f[k]) body[k] = f[k];
    try {
      const m = await post<MemberCreated>("/api/v1/members", body);
      addToSheet([{ ...m, member_id: m.id, expires_at: m.activation_expires_at }]);
      setCreated(m);
      (event.currentTarget as HTMLFormElement | null)?.reset();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <Screen title={v.members.add}>
      <p>
        <a href="/manage/admin/members">{v.sections.members.title}</a>
      </p>
      <form class="stack card" onSubmit={submit}>
        <OrgPicker id="new-cell" label={v.members.cell} value={cell} onChange={setCell} cellsOnly />
        <PersonFields />
        {error !== null && <ErrorBox error={error} />}
        <button type="submit" class="button" disabled={!cell}>
          {v.members.add}
        </button>
      </form>
      {created && (
        <div role="status" class="stack">
          <p>{v.members.created(created.full_name)}</p>
          <p>
            <a class="button secondary" href="/manage/admin/sheet">
              {v.members.openSheet}
            </a>{" "}
            <a class="button secondary" href={`/manage/admin/members/${created.id}`}>
              {created.full_name}
            </a>
          </p>
        </div>
      )}
    </Screen>
  );
}

const REASONS = Object.keys(v.members.reasons);

export function MemberDetail({ id }: { id: string }) {
  const member = useAsync(() => get<MemberOut>(`/api/v1/members/${id}`), [id]);
  const cell = useAsync(
    () => (member.data ? get<OrgOut>(`/api/v1/orgs/${member.data.cell_id}`) : Promise.resolve(null)),
    [member.data?.cell_id],
  );
  const [pending, setPending] = useState<Pending | null>(null);
  const [message, setMessage] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [target, setTarget] = useState<OrgRef | null>(null);

  async function save(event: Event) {
    event.preventDefault();
    const m = member.data;
    if (!m) return;
    setError(null);
    setMessage("");
    const f = formFields(event.currentTarget as HTMLFormElement);
    const patch: Record<string, string | null> = {};
    for (const k of ["card_number", "full_name", ...OPTIONAL, "status"]) {
      const now = f[k] ?? "";
      const was = (m as unknown as Record<string, string | null>)[k] ?? "";
      if (now !== was) patch[k] = now === "" ? null : now;
    }
    if (Object.keys(patch).length === 0) return;
    try {
      member.set(await api<MemberOut>("PATCH", `/api/v1/members/${id}`, { body: patch }));
      setMessage(v.members.saved);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <Screen title={member.data?.full_name ?? v.sections.members.title}>
      <p>
        <a href="/manage/admin/members">{v.sections.members.title}</a>
      </p>
      <Show state={member}>
        {(m) => {
          const onRoll = m.status === "active" || m.status === "exempt";
          return (
            <>
              <dl class="facts">
                <dt>{v.members.card}</dt>
                <dd>{m.card_number}</dd>
                <dt>{v.members.cell}</dt>
                <dd>{cell.data?.title ?? "…"}</dd>
                <dt>{v.members.status}</dt>
                <dd>{v.members.statuses[m.status] ?? m.status}</dd>
                {m.citizen_id && (
                  <>
                    <dt>{v.members.citizen}</dt>
                    <dd>{m.citizen_id}</dd>
                  </>
                )}
              </dl>
              <p role="status" class="status">
                {message}
              </p>
              {error !== null && <ErrorBox error={error} />}
              {onRoll && (
                <>
                  <form class="stack card" onSubmit={save} aria-labelledby="edit-title">
                    <h2 id="edit-title">{v.members.edit}</h2>
                    <PersonFields member={m} />
                    <label for="m-status">{v.members.status}</label>
                    <select id="m-status" name="status" value={m.status}>
                      <option value="active">{v.members.statuses.active}</option>
                      <option value="exempt">{v.members.statuses.exempt}</option>
                    </select>
                    <button type="submit" class="button">
                      {v.save}
                    </button>
                  </form>

                  <form
                    class="stack card"
                    aria-labelledby="transfer-title"
                    onSubmit={(e) => {
                      e.preventDefault();
                      const on = formFields(e.currentTarget).effective_on;
                      if (!target || !on) return;
                      setPending({
                        message: v.members.transferConfirm(m.full_name, target.title, day(on)),
                        run: async () => {
                          member.set(
                            await post<MemberOut>(`/api/v1/members/${id}/transfer`, {
                              to_cell_id: target.id,
                              effective_on: on,
                            }),
                          );
                          setMessage(v.members.transferred(target.title));
                          setTarget(null);
                        },
                      });
                    }}
                  >
                    <h2 id="transfer-title">{v.members.transfer}</h2>
                    <OrgPicker id="transfer-cell" label={v.members.transferTo} value={target} onChange={setTarget} cellsOnly />
                    <label for="transfer-on">{v.members.effective}</label>
                    <input id="transfer-on" name="effective_on" type="date" max={todayVN()} value={todayVN()} required />
                    <button type="submit" class="button secondary" disabled={!target}>
                      {v.members.transfer}
                    </button>
                  </form>

                  <RecordCard memberId={id} name={m.full_name} />

                  <div class="stack card">
                    <h2>{v.members.reissue}</h2>
                    <button
                      type="button"
                      class="button secondary"
                      onClick={() =>
                        setPending({
                          message: v.members.reissueConfirm(m.full_name),
                          run: async () => {
                            const r = await post<Reissued>(`/api/v1/members/${id}/activation-code`);
                            addToSheet([{ ...r, expires_at: r.activation_expires_at }]);
                            setMessage(v.members.reissued);
                          },
                        })
                      }
                    >
                      {v.members.reissue}
                    </button>
                    <a class="button secondary" href="/manage/admin/sheet">
                      {v.members.openSheet}
                    </a>
                  </div>

                  <form
                    class="stack card"
                    aria-labelledby="deactivate-title"
                    onSubmit={(e) => {
                      e.preventDefault();
                      const f = formFields(e.currentTarget);
                      setPending({
                        message: v.members.deactivateConfirm(m.full_name),
                        run: async () => {
                          member.set(
                            await post<MemberOut>(`/api/v1/members/${id}/deactivate`, {
                              reason_code: f.reason_code,
                              effective_on: f.effective_on,
                            }),
                          );
                          setMessage(v.members.deactivated);
                        },
                      });
                    }}
                  >
                    <h2 id="deactivate-title">{v.members.deactivate}</h2>
                    <label for="leave-reason">{v.members.reason}</label>
                    <select id="leave-reason" name="reason_code">
                      {REASONS.map((r) => (
                        <option key={r} value={r}>
                          {v.members.reasons[r]}
                        </option>
                      ))}
                    </select>
                    <label for="leave-on">{v.members.effective}</label>
                    <input id="leave-on" name="effective_on" type="date" max={todayVN()} value={todayVN()} required />
                    <button type="submit" class="button secondary">
                      {v.members.deactivate}
                    </button>
                  </form>
                </>
              )}
            </>
          );
        }}
      </Show>
      <Confirm pending={pending} onClose={() => setPending(null)} />
    </Screen>
  );
}
