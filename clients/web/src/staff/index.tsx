// The staff screens' entry (its own chunk): the landing page and the split into one chunk per
// area, so a secretary never downloads the committee's charts and a member downloads none.
import type { JSX } from "preact";
import { t } from "../i18n/vi";
import { me } from "../session";
import { Screen } from "../ui/common";
import { LazyScreen, type ScreenModule } from "../ui/lazy";
import { areasOf, type Area } from "./roles";
import { s } from "./vi";

const AREAS: Record<Area, () => Promise<ScreenModule>> = {
  cell: () => import("./secretary/routes"),
  committee: () => import("./committee/routes"),
  admin: () => import("./admin/routes"),
};

function Landing() {
  const areas = me.value ? areasOf(me.value) : [];
  return (
    <Screen title={s.title}>
      <p>{areas.length ? s.intro : s.noRole}</p>
      <ul class="list">
        {areas.map((area) => (
          <li key={area}>
            <a class="row-link" href={`/manage/${area}`}>
              <strong>{s.areas[area].title}</strong>
              <span>{s.areas[area].hint}</span>
            </a>
          </li>
        ))}
      </ul>
    </Screen>
  );
}

function NotFound() {
  return (
    <Screen title={t.notFound}>
      <p>
        <a href="/manage">{s.title}</a>
      </p>
    </Screen>
  );
}

export function screenFor(path: string): JSX.Element | null {
  const clean = path.replace(/\/+$/, "");
  if (clean === "/manage") return <Landing />;
  const area = clean.split("/")[2] as Area;
  if (!(area in AREAS)) return null;
  return <LazyScreen key={area} load={AREAS[area]} path={clean} fallback={NotFound} />;
}
