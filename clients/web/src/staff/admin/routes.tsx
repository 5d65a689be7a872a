// The admin screens under /manage/admin (a chunk of their own). An admin without a second
// factor is walked through enrolment first: until then identity leaves the admin grants out of
// their tokens, so no admin screen could work anyway.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { Me } from "../../api/types";
import { me, signOut } from "../../session";
import { Screen } from "../../ui/common";
import { match, navigate } from "../../ui/router";
import { TotpEnrolmentForm } from "../../ui/totp";
import "./admin.css";
import { isRootOperator } from "./api";
import { AuditLog } from "./Audit";
import { Grants } from "./Grants";
import { Import } from "./Import";
import { MemberDetail, Members, NewMember } from "./Members";
import { Orgs } from "./Orgs";
import { Sheet } from "./Sheet";
import { v } from "./vi";

function Home() {
  const sections = Object.entries(v.sections).filter(
    ([key]) => key !== "audit" || (me.value && isRootOperator(me.value)),
  );
  return (
    <Screen title={v.title}>
      <p>{v.intro}</p>
      <ul class="list admin-home">
        {sections.map(([key, s]) => (
          <li key={key}>
            <a class="row-link" href={`/manage/admin/${key}`}>
              <strong>{s.title}</strong>
              <span>{s.hint}</span>
            </a>
          </li>
        ))}
      </ul>
    </Screen>
  );
}

function EnrolSecondFactor() {
  const [done, setDone] = useState(false);
  async function again() {
    // Enabling the second factor ended every session: sign in again, with the code.
    await signOut(false);
    navigate("/manage/admin", true);
  }
  return (
    <Screen title={v.gate.title}>
      {done ? (
        <div class="stack">
          <p role="status">{v.gate.done}</p>
          <button type="button" class="button" onClick={again}>
            {v.gate.signInAgain}
          </button>
        </div>
      ) : (
        <div class="stack">
          <p>{v.gate.intro}</p>
          <TotpEnrolmentForm inputId="gate-otp" texts={v.gate} onEnabled={() => setDone(true)} />
        </div>
      )}
    </Screen>
  );
}

function needsSecondFactor(profile: Me): boolean {
  return profile.second_factor.required && !profile.second_factor.enabled;
}

function screen(path: string): JSX.Element | null {
  let p: Record<string, string> | null;
  if (match("/manage/admin", path)) return <Home />;
  if (match("/manage/admin/members", path)) return <Members />;
  if (match("/manage/admin/members/new", path)) return <NewMember />;
  if ((p = match("/manage/admin/members/:id", path))) return <MemberDetail key={p.id} id={p.id} />;
  if (match("/manage/admin/import", path)) return <Import />;
  if (match("/manage/admin/sheet", path)) return <Sheet />;
  if (match("/manage/admin/grants", path)) return <Grants />;
  if (match("/manage/admin/orgs", path)) return <Orgs />;
  if (match("/manage/admin/audit", path)) return <AuditLog />;
  return null;
}

export function screenFor(path: string): JSX.Element | null {
  const found = screen(path);
  if (found && me.value && needsSecondFactor(me.value)) return <EnrolSecondFactor />;
  return found ? <div class="admin">{found}</div> : null;
}
