// A member's rewards and discipline (khen thưởng, kỷ luật) as their record shows them, and the
// form to enter a decision of a competent body; identity checks the competence and audits it.
import { useState } from "preact/hooks";
import { get, post } from "../../api/client";
import type { MemberRecord } from "../../api/types";
import { t } from "../../i18n/vi";
import { ErrorBox, Show, useAsync } from "../../ui/common";
import { day } from "../../ui/format";
import { todayVN, type OrgRef } from "./api";
import { Confirm, OrgPicker, type Pending } from "./ui";
import { v } from "./vi";

const FORMS: Record<string, string[]> = {
  reward: ["giay_khen", "bang_khen", "huy_hieu", "khen_thuong_khac"],
  discipline: ["khien_trach", "canh_cao", "cach_chuc", "khai_tru"],
};

export function RecordCard({ memberId, name }: { memberId: string; name: string }) {
  const record = useAsync(() => get<MemberRecord>(`/api/v1/members/${memberId}/record`), [memberId]);
  const [kind, setKind] = useState("reward");
  const [form, setForm] = useState(FORMS.reward[0]);
  const [body, setBody] = useState<OrgRef | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [message, setMessage] = useState("");
  const [error, setError] = useState<unknown>(null);

  function submit(event: Event) {
    event.preventDefault();
    const f = event.currentTarget as HTMLFormElement;
    const data = new FormData(f);
    if (!body) return;
    setError(null);
    setMessage("");
    setPending({
      message: v.record.confirm(t.profile.forms[form] ?? form, name),
      run: async () => {
        record.set(
          await post<MemberRecord>(`/api/v1/members/${memberId}/distinctions`, {
            kind,
            form,
            decision_number: String(data.get("decision_number") ?? ""),
            decided_on: String(data.get("decided_on") ?? ""),
            org_id: body.id,
            reason: String(data.get("reason") ?? ""),
          }),
        );
        setMessage(v.record.added);
        f.reset();
      },
    });
  }

  return (
    <section class="stack card" aria-labelledby="record-title">
      <h2 id="record-title">{v.record.title}</h2>
      <Show state={record}>
        {(r) => (
          <ul class="plain" data-testid="record-entries">
            {[...r.rewards, ...r.discipline].map((d) => (
              <li key={d.id}>
                <strong>{t.profile.forms[d.form] ?? d.form}</strong> —{" "}
                {t.profile.decision(d.decision_number, day(d.decided_on), d.decided_by_title)}
              </li>
            ))}
            {r.rewards.length + r.discipline.length === 0 && <li>{t.profile.none}</li>}
          </ul>
        )}
      </Show>
      <form class="stack" onSubmit={submit}>
        <label for="record-kind">{v.record.kind}</label>
        <select
          id="record-kind"
          value={kind}
          onChange={(e) => {
            setKind(e.currentTarget.value);
            setForm(FORMS[e.currentTarget.value][0]);
          }}
        >
          {Object.entries(v.record.kinds).map(([k, label]) => (
            <option key={k} value={k}>
              {label}
            </option>
          ))}
        </select>
        <label for="record-form">{v.record.form}</label>
        <select id="record-form" value={form} onChange={(e) => setForm(e.currentTarget.value)}>
          {FORMS[kind].map((f) => (
            <option key={f} value={f}>
              {t.profile.forms[f]}
            </option>
          ))}
        </select>
        <label for="record-number">{v.record.number}</label>
        <input id="record-number" name="decision_number" required maxLength={50} />
        <label for="record-on">{v.record.decidedOn}</label>
        <input id="record-on" name="decided_on" type="date" max={todayVN()} required />
        <OrgPicker id="record-body" label={v.record.body} value={body} onChange={setBody} />
        <label for="record-reason">{v.record.reason}</label>
        <textarea id="record-reason" name="reason" rows={3} required maxLength={2000} />
        <p role="status" class="status">
          {message}
        </p>
        {error !== null && <ErrorBox error={error} />}
        <button type="submit" class="button" disabled={!body}>
          {v.record.add}
        </button>
      </form>
      <Confirm pending={pending} onClose={() => setPending(null)} />
    </section>
  );
}
