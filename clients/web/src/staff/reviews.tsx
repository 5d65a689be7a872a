// The annual review's cell table, shared by the secretary's and the committee's screens: each
// member's self-assessment and proposed grade, the cell's secret vote, its proposal, the
// committee's decision. Grade titles come from the members' texts (t.review.grades).
import type { ComponentChildren } from "preact";
import type { CellReview, Grade } from "../api/types";
import { t } from "../i18n/vi";
import "./reviews.css";

export const GRADES: Grade[] = ["xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh"];

export const rv = {
  member: "Đảng viên",
  vote: "Chi bộ biểu quyết",
  noMajority: "Chưa đủ quá nửa",
  notVoted: "Chưa biểu quyết",
  voting: "Đang biểu quyết",
  readAssessment: "Xem bản tự kiểm điểm",
  // Only the grades that got votes: four long titles with zeros crowd a phone's column.
  votes: (totals: Record<string, number>) =>
    GRADES.filter((g) => (totals[g] ?? 0) > 0)
      .map((g) => `${t.review.grades[g]}: ${totals[g]}`)
      .join("; ") || "0",
  quota: (q: CellReview["proposed"]) =>
    `Xuất sắc ${q.excellent} / Tốt ${q.good} — tối đa ${q.allowed_excellent} xuất sắc theo tỷ lệ`,
  actions: "Thao tác",
  periods: "Các đợt kiểm điểm",
  noPeriods: "Chưa có đợt kiểm điểm nào.",
  periodTitle: (year: number, org: string | null | undefined) => `Năm ${year} — ${org ?? ""}`,
};

function gradeText(g: Grade | null | undefined): string {
  return g ? t.review.grades[g] : t.review.pending;
}

/** The cell's members and where each one's review stands; ``action`` adds a last column. */
export function ReviewTable({ review, action }: { review: CellReview; action?: (m: CellReview["members"][number]) => ComponentChildren }) {
  return (
    <div class="review-wrap" tabIndex={0} role="region" aria-label={review.cell_title}>
      <table class="review">
        <thead>
          <tr>
            <th scope="col">{rv.member}</th>
            <th scope="col">{t.review.selfGrade}</th>
            <th scope="col">{rv.vote}</th>
            <th scope="col">{t.review.cellGrade}</th>
            <th scope="col">{t.review.finalGrade}</th>
            {action && <th scope="col">{rv.actions}</th>}
          </tr>
        </thead>
        <tbody>
          {review.members.map((m) => (
            <tr key={m.member_id} data-member={m.member_id}>
              <th scope="row">
                {m.full_name ?? m.card_number ?? m.member_id}
                {m.assessment && (
                  <details>
                    <summary>{rv.readAssessment}</summary>
                    <p class="prose">{m.assessment}</p>
                  </details>
                )}
              </th>
              <td>{m.submitted_at ? gradeText(m.self_grade) : t.review.notSubmitted}</td>
              <td>
                {m.vote_totals ? (
                  <>
                    {m.voted_grade ? gradeText(m.voted_grade) : rv.noMajority}
                    <br />
                    <small>{rv.votes(m.vote_totals)}</small>
                  </>
                ) : m.motion_id ? (
                  rv.voting
                ) : (
                  rv.notVoted
                )}
              </td>
              <td>{gradeText(m.proposed_grade)}</td>
              <td>
                {gradeText(m.final_grade)}
                {m.final_reason && (
                  <>
                    <br />
                    <small>
                      {t.review.reason}: {m.final_reason}
                    </small>
                  </>
                )}
              </td>
              {action && <td>{action(m)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
