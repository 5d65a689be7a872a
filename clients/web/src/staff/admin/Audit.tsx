// The audit log of each service, newest first, with the result of verifying its hash chain
// (root operators only: the services answer 403 to anyone else).
import { useEffect, useState } from "preact/hooks";
import { get } from "../../api/client";
import { me } from "../../session";
import { ErrorBox, Screen, Show, useAsync } from "../../ui/common";
import { when } from "../../ui/format";
import { isRootOperator, type AuditEntry, type AuditPage, type Chain } from "./api";
import { Back } from "./ui";
import { v } from "./vi";

const SERVICES = Object.keys(v.audit.services);

export function AuditLog() {
  const [service, setService] = useState(() => {
    const s = new URLSearchParams(location.search).get("service");
    return s && SERVICES.includes(s) ? s : "identity";
  });
  const chain = useAsync(() => get<Chain>(`/api/v1/${service}/audit/verify`), [service]);
  const first = useAsync(() => get<AuditPage>(`/api/v1/${service}/audit`, { limit: 50 }), [service]);
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (first.data) {
      setItems(first.data.items);
      setCursor(first.data.next_cursor);
    }
  }, [first.data]);
  async function more() {
    try {
      const page = await get<AuditPage>(`/api/v1/${service}/audit`, { limit: 50, cursor });
      setItems([...items, ...page.items]);
      setCursor(page.next_cursor);
    } catch (e) {
      setError(e);
    }
  }
  if (me.value && !isRootOperator(me.value)) {
    return (
      <Screen title={v.sections.audit.title}>
        <Back />
        <p>{v.audit.operatorsOnly}</p>
      </Screen>
    );
  }
  const name = v.audit.services[service];
  return (
    <Screen title={v.sections.audit.title}>
      <Back />
      <nav class="chips" aria-label={v.sections.audit.title}>
        {SERVICES.map((s) => (
          <a
            key={s}
            href={`/manage/admin/audit?service=${s}`}
            aria-current={s === service ? "page" : undefined}
            onClick={() => setService(s)}
          >
            {v.audit.services[s]}
          </a>
        ))}
      </nav>
      <Show state={chain}>
        {(c) => (
          <div class={c.ok ? "chain ok" : "chain broken"} role="status">
            <p>{c.ok ? v.audit.chainOk(c.entries) : v.audit.chainBroken(c.first_broken_seq ?? 0)}</p>
            <button type="button" class="button secondary" onClick={chain.reload}>
              {v.audit.verify}
            </button>
          </div>
        )}
      </Show>
      <Show state={first}>
        {() => (
          <div class="table-wrap" tabIndex={0} role="region" aria-labelledby="audit-caption">
            <table class="rows">
              <caption id="audit-caption">{v.audit.caption(name)}</caption>
              <thead>
                <tr>
                  <th scope="col">{v.audit.seq}</th>
                  <th scope="col">{v.audit.at}</th>
                  <th scope="col">{v.audit.action}</th>
                  <th scope="col">{v.audit.outcome}</th>
                  <th scope="col">{v.audit.actor}</th>
                  <th scope="col">{v.audit.target}</th>
                  <th scope="col">{v.audit.details}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <tr key={e.seq}>
                    <th scope="row">{e.seq}</th>
                    <td>{when(e.at)}</td>
                    <td>{e.action}</td>
                    <td>{e.outcome}</td>
                    <td class="id">{e.actor_id ?? ""}</td>
                    <td class="id">{e.target ?? ""}</td>
                    <td class="details">{JSON.stringify(e.details)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Show>
      {cursor && (
        <button type="button" class="button secondary" onClick={more}>
          {v.more}
        </button>
      )}
      {error !== null && <ErrorBox error={error} />}
    </Screen>
  );
}
