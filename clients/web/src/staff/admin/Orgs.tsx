// The org tree of the admin's subtree: walk down through children, and create, rename, move or
// close an org — each after a confirmation saying what will happen.
import { useEffect, useState } from "preact/hooks";
import { api, get, post } from "../../api/client";
import type { Page } from "../../api/types";
import { me } from "../../session";
import { Screen, Show, useAsync } from "../../ui/common";
import { day } from "../../ui/format";
import { navigate, useLocation } from "../../ui/router";
import { adminOrgs, CELL_KINDS, todayVN, type OrgOut, type OrgRef } from "./api";
import { Back, Confirm, kindOf, OrgPicker, type Pending } from "./ui";
import { v } from "./vi";

// Which kinds may be created under which (identity's orgs service refuses the others).
const CHILD_KINDS: Record<string, string[]> = {
  province: ["district", "grassroots_committee", "grassroots_cell"],
  district: ["grassroots_committee", "grassroots_cell"],
  grassroots_committee: ["cell"],
};

export function Orgs() {
  const location = useLocation();
  const id = location.searchParams.get("org") ?? (me.value ? adminOrgs(me.value)[0]?.id : undefined) ?? "";
  const org = useAsync(() => get<OrgOut>(`/api/v1/orgs/${id}`), [id]);
  const children = useAsync(() => get<Page<OrgOut>>(`/api/v1/orgs/${id}/children`, { limit: 200 }), [id]);
  const [pending, setPending] = useState<Pending | null>(null);
  const [message, setMessage] = useState("");
  const [parent, setParent] = useState<OrgRef | null>(null);
  useEffect(() => setMessage(""), [id]);

  const done = (next?: OrgOut) => {
    if (next) org.set(next);
    setMessage(v.orgs.done);
    children.reload();
  };
  const open = (target: string) => navigate(`/manage/admin/orgs?org=${target}`);

  return (
    <Screen title={org.data?.title ?? v.sections.orgs.title}>
      <Back />
      <p role="status" class="status">
        {message}
      </p>
      <Show state={org}>
        {(o) => {
          const kinds = CHILD_KINDS[o.kind] ?? [];
          const isOpen = o.status !== "closed";
          return (
            <>
              <dl class="facts">
                <dt>{v.orgs.kind}</dt>
                <dd>{kindOf(o.kind)}</dd>
                <dt>{v.orgs.code}</dt>
                <dd>{o.code ?? "—"}</dd>
                {!isOpen && (
                  <>
                    <dt>{v.orgs.closed}</dt>
                    <dd>{o.valid_to ? day(o.valid_to) : ""}</dd>
                  </>
                )}
              </dl>
              <p class="inline">
                {o.parent_id && (
                  <a class="button secondary" href={`/manage/admin/orgs?org=${o.parent_id}`}>
                    {v.orgs.up}
                  </a>
                )}
                <a class="button secondary" href={`/manage/admin/members?org=${o.id}`}>
                  {v.orgs.membersHere}
                </a>
                {CELL_KINDS.includes(o.kind) && isOpen && (
                  <a class="button secondary" href={`/manage/admin/import?cell=${o.id}`}>
                    {v.orgs.importHere}
                  </a>
                )}
              </p>

              <section class="card" aria-labelledby="org-children">
                <h2 id="org-children">{v.orgs.children}</h2>
                <Show state={children}>
                  {(page) => (
                    <ul class="list">
                      {page.items.length === 0 && <li>{v.orgs.noChildren}</li>}
                      {page.items.map((c) => (
                        <li key={c.id}>
                          <a class="row-link" href={`/manage/admin/orgs?org=${c.id}`}>
                            <strong>{c.title}</strong>
                            <span>
                              {kindOf(c.kind)}
                              {c.code ? ` · ${c.code}` : ""}
                            </span>
                          </a>
                        </li>
                      ))}
                    </ul>
                  )}
                </Show>
              </section>

              {isOpen && kinds.length > 0 && (
                <form
                  class="stack card"
                  aria-labelledby="org-create"
                  onSubmit={(e) => {
                    e.preventDefault();
                    const form = e.currentTarget;
                    const f = Object.fromEntries(new FormData(form)) as Record<string, string>;
                    setPending({
                      message: v.orgs.createConfirm(f.title.trim(), o.title),
                      run: async () => {
                        const created = await post<OrgOut>("/api/v1/orgs", {
                          parent_id: o.id,
                          title: f.title.trim(),
                          kind: f.kind,
                          code: f.code.trim() || undefined,
                        });
                        form.reset();
                        done();
                        open(created.id);
                      },
                    });
                  }}
                >
                  <h2 id="org-create">{v.orgs.create}</h2>
                  <label for="org-title">{v.orgs.titleField}</label>
                  <input id="org-title" name="title" required />
                  <label for="org-kind">{v.orgs.kind}</label>
                  <select id="org-kind" name="kind">
                    {kinds.map((k) => (
                      <option key={k} value={k}>
                        {kindOf(k)}
                      </option>
                    ))}
                  </select>
                  <label for="org-code">
                    {v.orgs.code} <span class="hint">{v.optional}</span>
                  </label>
                  <input id="org-code" name="code" />
                  <button type="submit" class="button secondary">
                    {v.orgs.create}
                  </button>
                </form>
              )}

              {isOpen && (
                <form
                  class="stack card"
                  aria-labelledby="org-rename"
                  onSubmit={(e) => {
                    e.preventDefault();
                    const title = String(new FormData(e.currentTarget).get("title") ?? "").trim();
                    if (!title || title === o.title) return;
                    setPending({
                      message: v.orgs.renameConfirm(o.title, title),
                      run: async () => done(await api<OrgOut>("PATCH", `/api/v1/orgs/${o.id}`, { body: { title } })),
                    });
                  }}
                >
                  <h2 id="org-rename">{v.orgs.rename}</h2>
                  <label for="org-new-title">{v.orgs.newTitle}</label>
                  <input id="org-new-title" name="title" value={o.title} required />
                  <button type="submit" class="button secondary">
                    {v.orgs.rename}
                  </button>
                </form>
              )}

              {isOpen && o.parent_id && (
                <form
                  class="stack card"
                  aria-labelledby="org-move"
                  onSubmit={(e) => {
                    e.preventDefault();
                    if (!parent) return;
                    setPending({
                      message: v.orgs.moveConfirm(o.title, parent.title),
                      run: async () => {
                        done(await post<OrgOut>(`/api/v1/orgs/${o.id}/move`, { new_parent_id: parent.id }));
                        setParent(null);
                      },
                    });
                  }}
                >
                  <h2 id="org-move">{v.orgs.move}</h2>
                  <OrgPicker id="org-parent" label={v.orgs.newParent} value={parent} onChange={setParent} />
                  <button type="submit" class="button secondary" disabled={!parent}>
                    {v.orgs.move}
                  </button>
                </form>
              )}

              {isOpen && o.parent_id && (
                <form
                  class="stack card"
                  aria-labelledby="org-close"
                  onSubmit={(e) => {
                    e.preventDefault();
                    const on = String(new FormData(e.currentTarget).get("closed_on") ?? "");
                    if (!on) return;
                    setPending({
                      message: v.orgs.closeConfirm(o.title, day(on)),
                      run: async () => done(await post<OrgOut>(`/api/v1/orgs/${o.id}/close`, { closed_on: on })),
                    });
                  }}
                >
                  <h2 id="org-close">{v.orgs.close}</h2>
                  <label for="org-closed-on">{v.orgs.closedOn}</label>
                  <input id="org-closed-on" name="closed_on" type="date" value={todayVN()} required />
                  <button type="submit" class="button secondary">
                    {v.orgs.close}
                  </button>
                </form>
              )}
            </>
          );
        }}
      </Show>
      <Confirm pending={pending} onClose={() => setPending(null)} />
    </Screen>
  );
}
