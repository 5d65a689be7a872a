// The secretary screens under /manage/cell (a chunk of their own).
import type { JSX } from "preact";
import { match } from "../../ui/router";
import { CellHome } from "./Cell";
import { ManageMeeting } from "./Meeting";
import { MinutesScreen } from "./Minutes";
import { ReviewScreen } from "./Review";
import { RunMeeting } from "./Run";
import { EditMeeting, NewMeeting } from "./Schedule";
import { StudyScreen } from "./Study";
import "./secretary.css";

export function screenFor(path: string): JSX.Element | null {
  if (match("/manage/cell", path)) return <CellHome />;
  if (match("/manage/cell/meetings/new", path)) return <NewMeeting />;
  if (match("/manage/cell/reviews", path)) return <ReviewScreen />;
  let p = match("/manage/cell/meetings/:id/run", path);
  if (p) return <RunMeeting key={p.id} id={p.id} />;
  p = match("/manage/cell/meetings/:id/minutes", path);
  if (p) return <MinutesScreen key={p.id} id={p.id} />;
  p = match("/manage/cell/meetings/:id/edit", path);
  if (p) return <EditMeeting key={p.id} id={p.id} />;
  p = match("/manage/cell/meetings/:id", path);
  if (p) return <ManageMeeting key={p.id} id={p.id} />;
  p = match("/manage/cell/documents/:id", path);
  if (p) return <StudyScreen key={p.id} id={p.id} />;
  return null;
}
