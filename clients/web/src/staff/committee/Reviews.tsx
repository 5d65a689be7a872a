// The committee's side of the annual review: open a review period for its subtree and year,
// follow each cell's progress, and decide a cell's proposed grades (approve, or change one with
// its reason). The grades report is one of the dashboards.
import { useState } from "preact/hooks";
import { get, post } from "../../api/client";
import type { CellProgress, CellReview, Grade, ReviewPeriod } from "../../api/types";
import { t } from "../../i18n/vi";
import { ErrorBox, Show, useAsync } from "../../ui/common";
import { when } from "../../ui/format";
import { navigate, useLocation } from "../../ui/router";
import { GRADES, ReviewTable, rv } from "../reviews";
import { Frame, currentOrg } from "./Reports";
import { v } from "./vi";

function OpenPeriod({ org, onOpened }: { org: string; onOpened: (p: ReviewPeriod) => void }) {
  const year = new Date().getFullYear();
  const [form, setForm] = useState({ year: String(year), deadline: `${year}-12-20`, share: "20" });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onOpened(
        await post<ReviewPeriod>("/api/v1/reviews", {
          org_id: org,
          year: Number(form.year),
          // The end of the chosen day in Việt Nam (UTC+7, no daylight saving).
          self_deadline: `${form.deadline}T23:59:00+07:00`,
          excellent_share: Number(form.share) / 100,
        }),
      );
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="stack card" onSubmit={submit} aria-labelledby="open-review">
      <h2 id="open-review">{v.reviews.open}</h2>
      <label for="review-year">{v.reviews.year}</label>
      <input id="review-year" type="number" min={2000} max={2100} required value={form.year} onInput={set("year")} />
      <label for="review-deadline">{v.reviews.deadline}</label>
      <input id="review-deadline" type="date" required value={form.deadline} onInput={set("deadline")} />
      <label for="review-share">{v.reviews.share}</label>
      <input id="review-share" type="number" min={0} max={100} required value={form.share} onInput={set("share")} />
      {error !== null && <ErrorBox error={error} />}
      <button type="submit" class="button" disabled={busy || !org}>
        {v.reviews.openButton}
      </button>
    </form>
  );
}

export function ReviewsScreen() {
  useLocation();
  const org = currentOrg();
  const periods = useAsync(() => get<ReviewPeriod[]>("/api/v1/reviews"), []);
  return (
    <Frame title={v.reviews.title} org={org}>
      <OpenPeriod org={org} onOpened={(p) => navigate(`/manage/committee/reviews/${p.id}?org=${org}`)} />
      <section class="card" aria-labelledby="review-periods">
        <h2 id="review-periods">{rv.periods}</h2>
        <Show state={periods}>
          {(list) =>
            list.length === 0 ? (
              <p>{rv.noPeriods}</p>
            ) : (
              <ul class="list">
                {list.map((p) => (
                  <li key={p.id}>
                    <a class="row-link" href={`/manage/committee/reviews/${p.id}?org=${org}`}>
                      <strong>{rv.periodTitle(p.year, p.org_title)}</strong>
                      <span>{v.reviews.deadlineOn(when(p.self_deadline))}</span>
                    </a>
                  </li>
                ))}
              </ul>
            )
          }
        </Show>
      </section>
    </Frame>
  );
}

export function PeriodScreen({ id }: { id: string }) {
  useLocation();
  const org = currentOrg();
  const cells = useAsync(() => get<CellProgress[]>(`/api/v1/reviews/${id}/cells`), [id]);
  return (
    <Frame title={v.reviews.progress} org={org}>
      <p>
        <a href={`/manage/committee/reviews?org=${org}`}>{v.reviews.back}</a>
      </p>
      <Show state={cells}>
        {(list) => (
          <div class="review-wrap" tabIndex={0} role="region" aria-label={v.reviews.progress}>
            <table class="review">
              <thead>
                <tr>
                  <th scope="col">{t.profile.cell}</th>
                  {v.reviews.columns.map((c) => (
                    <th scope="col" key={c}>
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {list.map((c) => (
                  <tr key={c.cell_id}>
                    <th scope="row">
                      <a href={`/manage/committee/reviews/${id}/${c.cell_id}?org=${org}`}>{c.cell_title}</a>
                    </th>
                    <td>{c.members}</td>
                    <td>{c.submitted}</td>
                    <td>{c.voted}</td>
                    <td>{c.proposed}</td>
                    <td>{c.decided}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Show>
    </Frame>
  );
}

type Change = { grade: Grade | ""; reason: string };

export function CellDecisionScreen({ id, cell }: { id: string; cell: string }) {
  useLocation();
  const org = currentOrg();
  const review = useAsync(() => get<CellReview>(`/api/v1/reviews/${id}/cells/${cell}`), [id, cell]);
  const [changes, setChanges] = useState<Record<string, Change>>({});
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const change = (member: string, patch: Partial<Change>) =>
    setChanges({ ...changes, [member]: { ...(changes[member] ?? { grade: "", reason: "" }), ...patch } });

  async function decide() {
    setBusy(true);
    setError(null);
    setMessage("");
    try {
      const list = Object.entries(changes)
        .filter(([, c]) => c.grade)
        .map(([member_id, c]) => ({ member_id, grade: c.grade, reason: c.reason }));
      review.set(await post<CellReview>(`/api/v1/reviews/${id}/cells/${cell}/decision`, { changes: list }));
      setChanges({});
      setMessage(v.reviews.decided);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Frame title={v.reviews.decide} org={org}>
      <p>
        <a href={`/manage/committee/reviews/${id}?org=${org}`}>{v.reviews.backToCells}</a>
      </p>
      <Show state={review}>
        {(r) => (
          <section class="card" aria-labelledby="cell-review">
            <h2 id="cell-review">{r.cell_title}</h2>
            <ReviewTable
              review={r}
              action={(m) => {
                if (!r.can_decide || !m.proposed_grade || m.final_grade) return null;
                const c = changes[m.member_id] ?? { grade: "", reason: "" };
                const name = m.full_name ?? "";
                return (
                  <div class="stack">
                    <label for={`grade-${m.member_id}`}>{v.reviews.changeFor(name)}</label>
                    <select id={`grade-${m.member_id}`} value={c.grade} onChange={(e) => change(m.member_id, { grade: e.currentTarget.value as Grade | "" })}>
                      <option value="">{v.reviews.keep}</option>
                      {GRADES.filter((g) => g !== m.proposed_grade).map((g) => (
                        <option key={g} value={g}>
                          {t.review.grades[g]}
                        </option>
                      ))}
                    </select>
                    {c.grade && (
                      <>
                        <label for={`reason-${m.member_id}`}>{t.review.reason}</label>
                        <input id={`reason-${m.member_id}`} required maxLength={2000} value={c.reason} onInput={(e) => change(m.member_id, { reason: e.currentTarget.value })} />
                      </>
                    )}
                  </div>
                );
              }}
            />
            <p class="meta">{rv.quota(r.final.excellent + r.final.good > 0 ? r.final : r.proposed)}</p>
            {error !== null && <ErrorBox error={error} />}
            {message && <p role="status">{message}</p>}
            {r.can_decide && r.members.some((m) => m.proposed_grade && !m.final_grade) && (
              <button type="button" class="button" disabled={busy} onClick={decide}>
                {v.reviews.decideButton}
              </button>
            )}
          </section>
        )}
      </Show>
    </Frame>
  );
}
