// HTML that comes from the API (news bodies, handbook articles) reaches the page only through
// DOMPurify, which keeps formatting and drops scripts, event handlers and foreign frames.
import DOMPurify from "dompurify";

export function SafeHtml({ html, class: className, svg = false }: { html: string; class?: string; svg?: boolean }) {
  const clean = DOMPurify.sanitize(html, {
    USE_PROFILES: svg ? { svg: true } : { html: true },
    FORBID_TAGS: ["style", "form"],
  });
  return <div class={className} dangerouslySetInnerHTML={{ __html: clean }} />;
}

/** Plain text (no markup) as paragraphs; markup-looking text goes through the sanitizer. */
export function Body({ text }: { text: string }) {
  if (/<[a-z][\s\S]*>/i.test(text)) return <SafeHtml html={text} class="prose" />;
  return (
    <div class="prose">
      {text
        .split(/\n\s*\n/)
        .filter((p) => p.trim())
        .map((p, i) => (
          <p key={i}>{p.trim()}</p>
        ))}
    </div>
  );
}
