import { useEffect } from "preact/hooks";
import type { InboxPage, MeetingSummary, News, Page, ToStudy } from "../api/types";
import { t } from "../i18n/vi";
import { cachedGet, keepAhead } from "../offline/store";
import { me } from "../session";
import { Screen, Show, useAsync } from "../ui/common";
import { when } from "../ui/format";
import { ConsultationRows, useMyConsultations } from "./Consultations";
import { StudyItem } from "./Documents";
import { MeetingCard } from "./Meetings";
import { NewsRows } from "./Reading";

export function Home() {
  const meetings = useAsync(
    () => cachedGet<Page<MeetingSummary>>("/api/v1/meetings", { scope: "mine", when: "upcoming", limit: 1 }),
    [],
  );
  const study = useAsync(() => cachedGet<Page<ToStudy>>("/api/v1/documents/to-study", { limit: 20 }), []);
  // Every document to study is kept for offline reading, text and file, without opening it.
  useEffect(() => {
    if (study.data) keepAhead(study.data.items.map((i) => ({ id: i.document_id, version: i.version })));
  }, [study.data]);
  const inbox = useAsync(() => cachedGet<InboxPage>("/api/v1/inbox", { unread: true, limit: 5 }), []);
  const news = useAsync(() => cachedGet<Page<News>>("/api/v1/news", { limit: 3 }), []);
  const consultations = useMyConsultations();
  const openToMe = (consultations.data ?? []).filter((c) => c.status === "open");
  return (
    <Screen title={t.home.greeting(me.value?.full_name ?? "")}>
      <section aria-labelledby="next-meeting" class="card">
        <h2 id="next-meeting">{t.home.nextMeeting}</h2>
        <Show state={meetings}>
          {(page) =>
            page.items.length ? <MeetingCard meeting={page.items[0]} /> : <p>{t.home.noMeeting}</p>
          }
        </Show>
      </section>
      <section aria-labelledby="to-study" class="card">
        <h2 id="to-study">{t.home.toStudy}</h2>
        <Show state={study}>
          {(page) =>
            page.items.length ? (
              <ul class="list">
                {page.items.map((item) => (
                  <StudyItem key={item.document_id} item={item} />
                ))}
              </ul>
            ) : (
              <p>{t.home.noStudy}</p>
            )
          }
        </Show>
      </section>
      {openToMe.length > 0 && (
        <section aria-labelledby="consultations" class="card">
          <h2 id="consultations">{t.home.consultations}</h2>
          <ConsultationRows items={openToMe} />
        </section>
      )}
      <section aria-labelledby="unread" class="card">
        <h2 id="unread">{t.home.unread}</h2>
        <Show state={inbox}>
          {(page) =>
            page.items.length ? (
              <ul class="list">
                {page.items.map((n) => (
                  <li key={n.id}>
                    <a class="row-link" href={n.link || "/inbox"}>
                      <strong>{n.title}</strong>
                      <span>{n.body}</span>
                      <small>{when(n.created_at)}</small>
                    </a>
                  </li>
                ))}
              </ul>
            ) : (
              <p>{t.home.noUnread}</p>
            )
          }
        </Show>
        <p>
          <a href="/inbox">{t.home.allInbox}</a>
        </p>
      </section>
      <section aria-labelledby="latest-news" class="card">
        <h2 id="latest-news">{t.home.news}</h2>
        <Show state={news}>{(page) => <NewsRows items={page.items} empty={t.home.noNews} />}</Show>
      </section>
    </Screen>
  );
}
