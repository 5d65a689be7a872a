// Role grants on the admin's subtree: the active grants under an org, grant a role to a member
// found by name, revoke — each after a confirmation.
import { useState } from "preact/hooks";
import { del, get, post } from "../../api/client";
import type { Page } from "../../api/types";
import { t } from "../../i18n/vi";
import { me } from "../../session";
import { ErrorBox, Screen, Show, useAsync } from "../../ui/common";
import { day } from "../../ui/format";
import { adminOrgs, type Grant, type OrgMember, type OrgRef } from "./api";
import { Back, Confirm, OrgPicker, type Pending } from "./ui";
import { v } from "./vi";

const ROLES = ["cell_secretary", "cell_deputy", "committee_member", "org_admin", "operator", "member"];
const roleName = (r: string) => t.roleNames[r] ?? r;

export function Grants() {
  const [org, setOrg] = useState<OrgRef | null>(() => (me.value ? (adminOrgs(me.value)[0] ?? null) : null));
  const grants = useAsync(
    () => (org ? get<Page<Grant>>("/api/v1/role-grants", { org_id: org.id, limit: 200 }) : Promise.resolve(null)),
    [org?.id],
  );
  const [pending, setPending] = useState<Pending | null>(null);
  const [message, setMessage] = useState("");
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<OrgMember[] | null>(null);
  const [chosen, setChosen] = useState<OrgMember | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function search(event: Event) {
    event.preventDefault();
    if (!org || !query.trim()) return;
    setError(null);
    try {
      setFound((await get<Page<OrgMember>>(`/api/v1/orgs/${org.id}/members`, { q: query.trim(), limit: 20 })).items);
    } catch (e) {
      setError(e);
    }
  }

  function grant(event: Event) {
    event.preventDefault();
    if (!org || !chosen) return;
    const role = new FormData(event.currentTarget as HTMLFormElement).get("role") as string;
    setPending({
      message: v.grants.grantConfirm(chosen.full_name, roleName(role), org.title),
      run: async () => {
        await post("/api/v1/role-grants", { member_id: chosen.id, role, org_id: org.id });
        setMessage(v.grants.granted);
        setChosen(null);
        setFound(null);
        grants.reload();
      },
    });
  }

  return (
    <Screen title={v.sections.grants.title}>
      <Back />
      <OrgPicker id="grants-org" label={v.org.choose} value={org} onChange={setOrg} />
      <p role="status" class="status">
        {message}
      </p>
      {org && (
        <section aria-labelledby="grants-current" class="card">
          <h2 id="grants-current">{v.grants.current}</h2>
          <Show state={grants}>
            {(page) => (
              <ul class="list">
                {(page?.items.length ?? 0) === 0 && <li>{v.none}</li>}
                {page?.items.map((g) => (
                  <li key={g.id} class="grant">
                    <span>
                      <strong>{g.full_name}</strong> — {roleName(g.role)}
                      <br />
                      <small class="hint">
                        {v.grants.since} {day(g.granted_at)}
                      </small>
                    </span>
                    <button
                      type="button"
                      class="button secondary"
                      aria-label={v.grants.revokeLabel(roleName(g.role), g.full_name)}
                      onClick={() =>
                        setPending({
                          message: v.grants.revokeConfirm(g.full_name, roleName(g.role), org.title),
                          run: async () => {
                            await del(`/api/v1/role-grants/${g.id}`);
                            setMessage(v.grants.revoked);
                            grants.reload();
                          },
                        })
                      }
                    >
                      {v.grants.revoke}
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </Show>
        </section>
      )}
      {org && (
        <form class="stack card" onSubmit={grant} aria-labelledby="grants-add">
          <h2 id="grants-add">{v.grants.add}</h2>
          {chosen ? (
            <div class="picked">
              <span>
                {v.grants.member}: <strong>{chosen.full_name}</strong> ({chosen.card_number})
              </span>
              <button type="button" class="button secondary" onClick={() => setChosen(null)}>
                {v.grants.choose}
              </button>
            </div>
          ) : (
            <>
              <label for="grant-q">{v.grants.memberSearch}</label>
              <div class="inline">
                <input
                  id="grant-q"
                  type="search"
                  value={query}
                  onInput={(e) => setQuery(e.currentTarget.value)}
                  onKeyDown={(e) => e.key === "Enter" && search(e)}
                />
                <button type="button" class="button secondary" onClick={search}>
                  {v.members.searchButton}
                </button>
              </div>
              {found && (
                <ul class="plain" aria-label={v.grants.choose}>
                  {found.length === 0 && <li>{v.none}</li>}
                  {found.map((m) => (
                    <li key={m.id}>
                      <button type="button" class="button link" onClick={() => setChosen(m)}>
                        {m.full_name}
                      </button>{" "}
                      <small class="hint">{m.card_number}</small>
                    </li>
                  ))}
                </ul>
              )}
            </>
          )}
          <label for="grant-role">{v.grants.role}</label>
          <select id="grant-role" name="role">
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {roleName(r)}
              </option>
            ))}
          </select>
          <button type="submit" class="button" disabled={!chosen}>
            {v.grants.grant}
          </button>
        </form>
      )}
      {error !== null && <ErrorBox error={error} />}
      <Confirm pending={pending} onClose={() => setPending(null)} />
    </Screen>
  );
}
