// The committee screens under /manage/committee (a chunk of their own, with the chart library):
// the org tree navigator beside every screen, the dashboards from the analytics reports, and
// publishing documents and news down the committee's subtree, and consultations on drafts.
import type { JSX } from "preact";
import { match, useLocation } from "../../ui/router";
import { ConsultationBoard, ConsultationsScreen } from "./Consultations";
import { myOrgs } from "./OrgNav";
import { DocumentsScreen, NewsScreen, PublishScreen } from "./Publish";
import { QuizScreen } from "./Quiz";
import { Frame, ReportScreen, currentOrg, type Dashboard } from "./Reports";
import { CellDecisionScreen, PeriodScreen, ReviewsScreen } from "./Reviews";
import { v } from "./vi";
import "./committee.css";

const DASHBOARDS: Dashboard[] = ["reach", "attendance", "adoption", "lagging", "grades"];
const ACTIONS = ["publish", "documents", "news", "consultations", "reviews"] as const;

function Home() {
  useLocation(); // `?org=` may change while the path stays
  const org = currentOrg();
  const suffix = org ? `?org=${org}` : "";
  if (myOrgs().length === 0) {
    return (
      <Frame title={v.title} org={org}>
        <p>{v.noGrant}</p>
      </Frame>
    );
  }
  return (
    <Frame title={v.title} org={org}>
      <h2>{v.sections}</h2>
      <ul class="tiles">
        {DASHBOARDS.map((d) => (
          <li key={d}>
            <a class="row-link tile" href={`/manage/committee/${d}${suffix}`}>
              <strong>{v.reports[d].title}</strong>
              <span>{v.reports[d].hint}</span>
            </a>
          </li>
        ))}
        {ACTIONS.map((a) => (
          <li key={a}>
            <a class="row-link tile" href={`/manage/committee/${a}${suffix}`}>
              <strong>{v.actions[a].title}</strong>
              <span>{v.actions[a].hint}</span>
            </a>
          </li>
        ))}
      </ul>
    </Frame>
  );
}

export function screenFor(path: string): JSX.Element | null {
  if (match("/manage/committee", path)) return <Home />;
  const cell = match("/manage/committee/reviews/:id/:cell", path);
  if (cell) return <CellDecisionScreen key={`${cell.id}/${cell.cell}`} id={cell.id} cell={cell.cell} />;
  const period = match("/manage/committee/reviews/:id", path);
  if (period) return <PeriodScreen key={period.id} id={period.id} />;
  const board = match("/manage/committee/consultations/:id", path);
  if (board) return <ConsultationBoard key={board.id} id={board.id} />;
  const p = match("/manage/committee/:screen", path);
  if (!p) return null;
  if ((DASHBOARDS as string[]).includes(p.screen)) {
    const d = p.screen as Dashboard;
    return <ReportScreen key={d} dashboard={d} />;
  }
  if (p.screen === "publish") return <PublishScreen />;
  if (p.screen === "documents") return <DocumentsScreen />;
  if (p.screen === "news") return <NewsScreen />;
  if (p.screen === "reviews") return <ReviewsScreen />;
  if (p.screen === "consultations") return <ConsultationsScreen />;
  if (p.screen === "quiz") return <QuizScreen />;
  return null;
}
