import type { Article, ArticleSummary, Category, News, Page } from "../api/types";
import { t } from "../i18n/vi";
import { cachedGet } from "../offline/store";
import { Screen, Show, useAsync } from "../ui/common";
import { day } from "../ui/format";
import { Body } from "../ui/html";
import { navigate, useLocation } from "../ui/router";

export function Handbook() {
  const location = useLocation();
  const q = location.searchParams.get("q") ?? "";
  const category = location.searchParams.get("category") ?? "";
  const categories = useAsync(() => cachedGet<Category[]>("/api/v1/handbook/categories"), []);
  const articles = useAsync(
    () => cachedGet<Page<ArticleSummary>>("/api/v1/handbook", { q: q || undefined, category: category || undefined, limit: 50 }),
    [q, category],
  );
  function submit(event: Event) {
    event.preventDefault();
    const value = new FormData(event.currentTarget as HTMLFormElement).get("q");
    const next = new URLSearchParams();
    if (typeof value === "string" && value.trim()) next.set("q", value.trim());
    navigate(`/handbook${next.size ? `?${next}` : ""}`);
  }
  return (
    <Screen title={t.handbook.title}>
      <form role="search" onSubmit={submit} class="stack">
        <label for="hq">{t.handbook.search}</label>
        <div class="inline">
          <input id="hq" name="q" type="search" defaultValue={q} autoComplete="off" />
          <button type="submit" class="button">
            {t.documents.searchButton}
          </button>
        </div>
      </form>
      <Show state={categories}>
        {(list) => (
          <nav class="chips" aria-label={t.handbook.categories}>
            <a href="/handbook" aria-current={!category && !q ? "page" : undefined}>
              {t.handbook.all}
            </a>
            {list.map((c) => (
              <a
                key={c.category}
                href={`/handbook?category=${encodeURIComponent(c.category)}`}
                aria-current={category === c.category ? "page" : undefined}
              >
                {c.category} ({c.articles})
              </a>
            ))}
          </nav>
        )}
      </Show>
      <Show state={articles}>
        {(page) =>
          page.items.length ? (
            <ul class="list">
              {page.items.map((a) => (
                <li key={a.slug}>
                  <a class="row-link" href={`/handbook/${encodeURIComponent(a.slug)}`}>
                    <strong>{a.title}</strong>
                    <span>{a.category}</span>
                  </a>
                </li>
              ))}
            </ul>
          ) : (
            <p>{t.handbook.none}</p>
          )
        }
      </Show>
    </Screen>
  );
}

export function HandbookArticle({ slug }: { slug: string }) {
  const article = useAsync(() => cachedGet<Article>(`/api/v1/handbook/${encodeURIComponent(slug)}`), [slug]);
  return (
    <Show state={article}>
      {(a) => (
        <Screen title={a.title}>
          <p class="meta">{a.category}</p>
          <Body text={a.body} />
        </Screen>
      )}
    </Show>
  );
}

/** News items as rows (the news feed and home's latest news), or ``empty`` when there are none. */
export function NewsRows({ items, empty }: { items: News[]; empty: string }) {
  return items.length ? (
    <ul class="list">
      {items.map((n) => (
        <li key={n.id}>
          <a class="row-link" href={`/news/${n.id}`}>
            <strong>{n.title}</strong>
            <small>{day(n.published_at)}</small>
          </a>
        </li>
      ))}
    </ul>
  ) : (
    <p>{empty}</p>
  );
}

export function NewsList() {
  const news = useAsync(() => cachedGet<Page<News>>("/api/v1/news", { limit: 30 }), []);
  return (
    <Screen title={t.news.title}>
      <Show state={news}>{(page) => <NewsRows items={page.items} empty={t.news.none} />}</Show>
    </Screen>
  );
}

export function NewsItem({ id }: { id: string }) {
  const item = useAsync(() => cachedGet<News>(`/api/v1/news/${id}`), [id]);
  return (
    <Show state={item}>
      {(n) => (
        <Screen title={n.title}>
          <p class="meta">{day(n.published_at)}</p>
          <Body text={n.body} />
        </Screen>
      )}
    </Show>
  );
}
