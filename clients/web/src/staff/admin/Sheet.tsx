// The activation sheet: one card per member just imported, created or given a new code, from
// the codes this page holds in memory (identity stores only their hashes). Printing is audited
// first: the page tells identity which members' cards it prints (ids only, never the codes).
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { post } from "../../api/client";
import { ErrorBox, Screen } from "../../ui/common";
import { day } from "../../ui/format";
import { sheet } from "./api";
import { Back, Qr, qrPath } from "./ui";
import { v } from "./vi";

export function Sheet() {
  const cards = sheet.value;
  const url = `${location.origin}/`;
  const code = useMemo(() => qrPath(url), [url]);
  const [status, setStatus] = useState("");
  const [error, setError] = useState<unknown>(null);
  const recorded = useRef(0);

  async function record() {
    await post("/api/v1/members/activation-sheets", { member_ids: cards.map((c) => c.member_id) });
    recorded.current = Date.now();
  }

  async function print() {
    setError(null);
    setStatus("");
    try {
      await record();
      setStatus(v.sheet.printed);
      window.print();
    } catch (e) {
      setError(e);
    }
  }

  useEffect(() => {
    // Printing with the browser's own menu (Ctrl+P) is recorded too.
    const before = () => {
      if (cards.length && Date.now() - recorded.current > 5000) void record().catch(setError);
    };
    window.addEventListener("beforeprint", before);
    return () => window.removeEventListener("beforeprint", before);
  }, [cards]);

  return (
    <Screen title={v.sections.sheet.title}>
      <div class="no-print stack">
        <Back />
        <p>{v.sheet.intro}</p>
        {cards.length === 0 ? (
          <p>{v.sheet.empty}</p>
        ) : (
          <div class="inline">
            <button type="button" class="button" onClick={print}>
              {v.sheet.print}
            </button>
            <button type="button" class="button secondary" onClick={() => (sheet.value = [])}>
              {v.sheet.clear}
            </button>
            <span>{v.sheet.count(cards.length)}</span>
          </div>
        )}
        <p role="status" class="status">
          {status}
        </p>
        {error !== null && <ErrorBox error={error} />}
      </div>
      <div class="sheet">
        {cards.map((c) => (
          <article class="activation-card" key={c.member_id} aria-label={c.full_name}>
            <p class="card-app">{v.sheet.cardTitle}</p>
            <p class="card-name">{c.full_name}</p>
            <div class="card-body">
              <dl>
                <dt>{v.sheet.card}</dt>
                <dd class="card-number">{c.card_number}</dd>
                <dt>{v.sheet.code}</dt>
                <dd class="code">{c.activation_code}</dd>
              </dl>
              <Qr code={code} label={v.sheet.qr(url)} />
            </div>
            <p class="card-help">
              {v.sheet.howTo} {v.sheet.expires(day(c.expires_at))}
            </p>
          </article>
        ))}
      </div>
    </Screen>
  );
}
