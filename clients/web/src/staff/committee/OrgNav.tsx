// The org tree navigator: the caller's own orgs (their grants), a search across their subtrees
// (without diacritics, GET /api/v1/orgs/search) and the tree itself, each level fetched only when
// opened (GET /api/v1/orgs/{id}/children). Choosing an org sets `?org=` on the current screen.
import { useState } from "preact/hooks";
import type { Page } from "../../api/types";
import { get } from "../../api/client";
import { ErrorBox } from "../../ui/common";
import { me } from "../../session";
import { orgsFor } from "../roles";
import { searchOrgs, type Org, type OrgFound } from "./api";
import { v } from "./vi";

const LEAF_KINDS = new Set(["cell", "grassroots_cell"]);

export interface NavOrg {
  id: string;
  title: string;
  kind: string;
}

/** The orgs where the signed-in user follows reports: committee member or org admin. */
export function myOrgs(): NavOrg[] {
  return me.value ? orgsFor(me.value, "committee") : [];
}

function Node({ org, hrefFor, current }: { org: NavOrg; hrefFor: (id: string) => string; current: string }) {
  const [open, setOpen] = useState(false);
  const [kids, setKids] = useState<Org[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const leaf = LEAF_KINDS.has(org.kind);

  async function load(after: string | null) {
    setError(null);
    try {
      const page = await get<Page<Org>>(`/api/v1/orgs/${org.id}/children`, { limit: 100, cursor: after ?? undefined });
      setKids((k) => [...(after ? (k ?? []) : []), ...page.items]);
      setCursor(page.next_cursor ?? null);
    } catch (e) {
      setError(e);
    }
  }

  function toggle() {
    if (!open && kids === null) void load(null);
    setOpen(!open);
  }

  return (
    <li>
      <div class="tree-row">
        {leaf ? (
          <span class="tree-spacer" aria-hidden="true" />
        ) : (
          <button
            type="button"
            class="tree-toggle"
            aria-expanded={open}
            aria-label={open ? v.nav.collapse(org.title) : v.nav.expand(org.title)}
            onClick={toggle}
          >
            {open ? "−" : "+"}
          </button>
        )}
        <a href={hrefFor(org.id)} aria-current={org.id === current ? "true" : undefined} class="tree-link">
          <span>{org.title}</span>
          <small>{v.kinds[org.kind] ?? org.kind}</small>
        </a>
      </div>
      {error && <ErrorBox error={error} onRetry={() => void load(null)} />}
      {open && kids && (
        <ul class="tree" aria-label={v.nav.children}>
          {kids.length === 0 && <li class="muted">{v.nav.noChildren}</li>}
          {kids.map((k) => (
            <Node key={k.id} org={k} hrefFor={hrefFor} current={current} />
          ))}
          {cursor && (
            <li>
              <button type="button" class="button link" onClick={() => void load(cursor)}>
                {v.nav.more}
              </button>
            </li>
          )}
        </ul>
      )}
    </li>
  );
}

export function OrgNav({ current, hrefFor }: { current: string; hrefFor: (id: string) => string }) {
  const [q, setQ] = useState("");
  const [found, setFound] = useState<OrgFound[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const roots = myOrgs();

  async function search(event: Event) {
    event.preventDefault();
    setError(null);
    if (!q.trim()) {
      setFound(null);
      return;
    }
    try {
      setFound(await searchOrgs(q));
    } catch (e) {
      setError(e);
    }
  }

  return (
    <nav class="org-nav" aria-label={v.nav.label}>
      <form role="search" class="stack" onSubmit={search}>
        <label for="org-q">{v.nav.search}</label>
        <div class="inline">
          <input id="org-q" type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} aria-describedby="org-q-hint" />
          <button type="submit" class="button secondary">
            {v.nav.searchButton}
          </button>
        </div>
        <p id="org-q-hint" class="hint">
          {v.nav.searchHint}
        </p>
      </form>
      {error && <ErrorBox error={error} />}
      {found && (
        <div>
          <p role="status">{v.nav.found(found.length)}</p>
          <ul class="list found">
            {found.map((o) => (
              <li key={o.id}>
                <a class="row-link" href={hrefFor(o.id)}>
                  <strong>{o.title}</strong>
                  <span>{[...o.trail.map((t) => t.title)].join(" › ") || (v.kinds[o.kind] ?? o.kind)}</span>
                </a>
              </li>
            ))}
          </ul>
        </div>
      )}
      <h2 class="nav-heading">{v.nav.myOrgs}</h2>
      <ul class="tree root">
        {roots.map((o) => (
          <Node key={o.id} org={o} hrefFor={hrefFor} current={current} />
        ))}
      </ul>
    </nav>
  );
}
