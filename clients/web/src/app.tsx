import { useEffect, useState } from "preact/hooks";
import { t } from "./i18n/vi";
import { observe, type SyncState } from "./offline/store";
import { booting, me } from "./session";
import { ConsultationDetail, Consultations } from "./screens/Consultations";
import { Documents, DocumentReader } from "./screens/Documents";
import { Home } from "./screens/Home";
import { Inbox } from "./screens/Inbox";
import { MeetingDetail, Meetings } from "./screens/Meetings";
import { Profile } from "./screens/Profile";
import { Handbook, HandbookArticle, NewsItem, NewsList } from "./screens/Reading";
import { Review } from "./screens/Review";
import { SignIn } from "./screens/SignIn";
import { isStaff } from "./staff/roles";
import { Loading, Screen } from "./ui/common";
import { LazyScreen } from "./ui/lazy";
import { match, useLocation } from "./ui/router";

const NAV = [
  ["/", t.nav.home],
  ["/meetings", t.nav.meetings],
  ["/documents", t.nav.documents],
  ["/inbox", t.nav.inbox],
  ["/profile", t.nav.profile],
] as const;

// Secretaries', committees' and administrators' screens: a chunk of their own (see ./staff).
const loadStaff = () => import("./staff/index");

function NotFound() {
  return (
    <Screen title={t.notFound}>
      <p>
        <a href="/">{t.nav.home}</a>
      </p>
    </Screen>
  );
}

function screenFor(path: string) {
  let p: Record<string, string> | null;
  if (path === "/" || path === "") return <Home />;
  if (path === "/manage" || path.startsWith("/manage/")) {
    return <LazyScreen load={loadStaff} path={path} fallback={NotFound} />;
  }
  if (match("/meetings", path)) return <Meetings />;
  if ((p = match("/meetings/:id", path))) return <MeetingDetail id={p.id} />;
  if (match("/documents", path)) return <Documents />;
  if ((p = match("/documents/:id", path))) return <DocumentReader id={p.id} />;
  if (match("/consultations", path)) return <Consultations />;
  if ((p = match("/consultations/:id", path))) return <ConsultationDetail id={p.id} />;
  if (match("/handbook", path)) return <Handbook />;
  if ((p = match("/handbook/:slug", path))) return <HandbookArticle slug={p.slug} />;
  if (match("/news", path)) return <NewsList />;
  if ((p = match("/news/:id", path))) return <NewsItem id={p.id} />;
  if (match("/inbox", path)) return <Inbox />;
  if (match("/profile", path)) return <Profile />;
  if (match("/reviews", path)) return <Review />;
  return <NotFound />;
}

function current(path: string, href: string): boolean {
  if (href === "/documents" && (path === "/consultations" || path.startsWith("/consultations/"))) return true;
  return href === "/" ? path === "/" : path === href || path.startsWith(`${href}/`);
}

/** What is offline and what waits to be sent, always visible while it matters. */
function Banner() {
  const [sync, setSync] = useState<SyncState | null>(null);
  useEffect(() => observe(setSync), []);
  if (!sync || (sync.online && !sync.servedFromDevice && sync.waiting === 0)) {
    return <div role="status" class="banner-slot" />;
  }
  return (
    <div role="status" class="banner">
      {(!sync.online || sync.servedFromDevice) && <p>{t.offline.offline}</p>}
      {sync.waiting > 0 && <p>{t.offline.waiting(sync.waiting)}</p>}
    </div>
  );
}

export function App() {
  const location = useLocation();
  if (booting.value) return <Loading />;
  if (!me.value) return <SignIn />;
  const path = location.pathname;
  return (
    <>
      <a class="skip" href="#main">
        {t.skipToContent}
      </a>
      <header class="top">
        <a href="/" class="brand">
          {t.appName}
        </a>
        <nav aria-label={t.nav.more} class="more">
          <a href="/handbook" aria-current={current(path, "/handbook") ? "page" : undefined}>
            {t.nav.handbook}
          </a>
          <a href="/news" aria-current={current(path, "/news") ? "page" : undefined}>
            {t.nav.news}
          </a>
          {isStaff(me.value) && (
            <a href="/manage" aria-current={current(path, "/manage") ? "page" : undefined}>
              {t.nav.manage}
            </a>
          )}
        </nav>
      </header>
      <Banner />
      <main id="main" tabIndex={-1}>
        {screenFor(path)}
      </main>
      <nav class="tabbar" aria-label={t.nav.label}>
        {NAV.map(([href, label]) => (
          <a key={href} href={href} aria-current={current(path, href) ? "page" : undefined}>
            {label}
          </a>
        ))}
      </nav>
    </>
  );
}
