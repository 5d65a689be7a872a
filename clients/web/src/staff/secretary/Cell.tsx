// My cell: the coming meetings, the roster (each member's reply to the next meeting, attendance
// history, study progress) and the documents sent to the cell.
import { get } from "../../api/client";
import { t } from "../../i18n/vi";
import { me } from "../../session";
import { Screen, Show, useAsync } from "../../ui/common";
import { day, when } from "../../ui/format";
import { orgsFor } from "../roles";
import {
  allPages,
  cellMates,
  monthOf,
  type DocumentSummary,
  type History,
  type Meeting,
  type MeetingSummary,
  type MemberAttendance,
  type StudyReport,
} from "./api";
import { v } from "./vi";

export const HISTORY_MONTHS = 12;
// Study progress on the roster counts the latest required documents (each one more request).
const REQUIRED_ON_ROSTER = 5;

/** The cell this secretary runs (the first of their cells; ?org= picks another). */
export function useCell(): { id: string; title: string; path: string } | null {
  const cells = me.value ? orgsFor(me.value, "cell") : [];
  const wanted = new URL(location.href).searchParams.get("org");
  const cell = cells.find((c) => c.id === wanted) ?? cells[0];
  return cell ? { id: cell.id, title: cell.title, path: cell.path } : null;
}

async function upcoming(cellId: string): Promise<MeetingSummary[]> {
  const now = new Date();
  const months = [monthOf(now), monthOf(now, 1)];
  const pages = await Promise.all(months.map((month) => allPages<MeetingSummary>("/api/v1/meetings", { org_id: cellId, month })));
  const soon = now.getTime() - 12 * 3600_000;
  return pages.flat().filter((m) => m.org_id === cellId && new Date(m.ends_at.utc).getTime() >= soon);
}

interface Overview {
  meetings: MeetingSummary[];
  next: Meeting | null;
  history: History;
  historyItems: MemberAttendance[];
  documents: DocumentSummary[];
  study: Map<string, { studied: number; total: number }>;
}

async function overview(cellId: string): Promise<Overview> {
  const [meetings, history, documents] = await Promise.all([
    upcoming(cellId),
    get<History>("/api/v1/meetings/attendance-history", { org_id: cellId, months: HISTORY_MONTHS, limit: 500 }),
    get<{ items: DocumentSummary[] }>("/api/v1/documents", { limit: 20 }).then((p) => p.items),
  ]);
  let historyItems = history.items;
  let cursor = history.next_cursor;
  while (cursor) {
    const more = await get<History>("/api/v1/meetings/attendance-history", { org_id: cellId, months: HISTORY_MONTHS, limit: 500, cursor });
    historyItems = historyItems.concat(more.items);
    cursor = more.next_cursor;
  }
  const open = meetings.filter((m) => m.status === "scheduled");
  const next = open.length ? await get<Meeting>(`/api/v1/meetings/${open[0].id}`) : null;
  const required = documents.filter((d) => d.study_deadline).slice(0, REQUIRED_ON_ROSTER);
  const study = new Map<string, { studied: number; total: number }>();
  const reports = await Promise.all(
    required.map((d) => allPages<StudyReport["items"][number]>(`/api/v1/documents/${d.id}/reads`, { org_id: cellId }).catch(() => [])),
  );
  for (const rows of reports) {
    for (const row of rows) {
      const s = study.get(row.member_id) ?? { studied: 0, total: 0 };
      s.total += 1;
      if (row.status === "studied") s.studied += 1;
      study.set(row.member_id, s);
    }
  }
  return { meetings, next, history, historyItems, documents, study };
}

const DOT: Record<string, string> = { present: "●", late: "◐", absent_excused: "○", absent_unexcused: "✕", exempt: "–" };

export function CellHome() {
  const cell = useCell();
  if (!cell) {
    return (
      <Screen title={v.title}>
        <p>{v.noCell}</p>
      </Screen>
    );
  }
  return <CellOverview cellId={cell.id} title={cell.title} />;
}

function CellOverview({ cellId, title }: { cellId: string; title: string }) {
  const data = useAsync(() => Promise.all([overview(cellId), cellMates()]), [cellId]);
  const cells = me.value ? orgsFor(me.value, "cell") : [];
  return (
    <Screen title={v.title}>
      <p class="meta">
        {v.cell}: {title}
      </p>
      {cells.length > 1 && (
        <nav class="chips" aria-label={v.chooseCell}>
          {cells.map((c) => (
            <a key={c.id} href={`/manage/cell?org=${c.id}`} aria-current={c.id === cellId ? "page" : undefined}>
              {c.title}
            </a>
          ))}
        </nav>
      )}
      <Show state={data}>
        {([o, people]) => (
          <>
            <section class="card" aria-labelledby="sec-meetings">
              <h2 id="sec-meetings">{v.meetings}</h2>
              <p>
                <a class="button" href={`/manage/cell/meetings/new?org=${cellId}`}>
                  {v.schedule}
                </a>{" "}
                <a class="button secondary" href={`/manage/cell/reviews?org=${cellId}`}>
                  {v.review.link}
                </a>
              </p>
              {o.meetings.length ? (
                <ul class="list">
                  {o.meetings.map((m) => (
                    <li key={m.id}>
                      <a class="row-link" href={`/manage/cell/meetings/${m.id}`}>
                        <strong>{m.title}</strong>
                        <span>{when(m.starts_at.utc)}</span>
                        <span>
                          {t.meetings.status[m.status] ?? m.status} · {v.meeting.repliedAttending} {m.counts.replied_attending} ·{" "}
                          {v.meeting.repliedAbsent} {m.counts.replied_absent} · {v.meeting.attended} {m.counts.attended}
                        </span>
                      </a>
                    </li>
                  ))}
                </ul>
              ) : (
                <p>{v.noMeetings}</p>
              )}
            </section>

            <section class="card" aria-labelledby="sec-roster">
              <h2 id="sec-roster">{v.roster}</h2>
              <p class="hint">{v.rosterIntro(HISTORY_MONTHS)}</p>
              <ul class="list roster">
                {o.historyItems.map((h) => {
                  const mate = people.get(h.member_id);
                  const invitee = o.next?.roster?.find((i) => i.member_id === h.member_id);
                  const study = o.study.get(h.member_id);
                  const attended = h.present + h.late;
                  return (
                    <li key={h.member_id} class="roster-row">
                      <strong>{mate?.full_name ?? invitee?.label ?? h.member_id.slice(0, 8)}</strong>
                      {mate && (
                        <span class="meta">
                          {v.card}: {mate.card_number}
                        </span>
                      )}
                      {o.next && (
                        <span>
                          {v.replyNext}:{" "}
                          {invitee?.standing === "exempt"
                            ? v.exempt
                            : invitee?.rsvp
                              ? (invitee.rsvp === "attending" ? t.meetings.attending : t.meetings.absent) +
                                (invitee.rsvp_reason ? ` (${t.meetings.reasons[invitee.rsvp_reason]})` : "")
                              : t.meetings.replyNone}
                        </span>
                      )}
                      <span>
                        {v.attendance}: {v.attendedOf(attended, h.meetings - h.exempt)}{" "}
                        {h.recent.length > 0 && (
                          <span class="dots" title={v.recent}>
                            <span aria-hidden="true">{h.recent.map((s) => DOT[s] ?? "?").join(" ")}</span>
                            <span class="visually-hidden">
                              {v.recent}: {h.recent.map((s) => v.run.statuses[s] ?? s).join(", ")}
                            </span>
                          </span>
                        )}
                      </span>
                      <span>
                        {v.study}: {study ? v.studiedOf(study.studied, study.total) : v.noRequired}
                      </span>
                    </li>
                  );
                })}
              </ul>
            </section>

            <section class="card" aria-labelledby="sec-docs">
              <h2 id="sec-docs">{v.documents}</h2>
              {o.documents.length ? (
                <ul class="list">
                  {o.documents.map((d) => (
                    <li key={d.id}>
                      <a class="row-link" href={`/manage/cell/documents/${d.id}?org=${cellId}`}>
                        <strong>
                          {d.number ? `${d.number} · ` : ""}
                          {d.title}
                        </strong>
                        <span>
                          {d.study_deadline ? `${v.required} · ${v.deadline} ${day(d.study_deadline)}` : (d.published_at && day(d.published_at)) || ""}
                        </span>
                      </a>
                    </li>
                  ))}
                </ul>
              ) : (
                <p>{v.noDocuments}</p>
              )}
            </section>
          </>
        )}
      </Show>
    </Screen>
  );
}
