// A small history router: paths are the app's URLs (the gateway falls back to index.html).
import { useEffect, useState } from "preact/hooks";

const listeners = new Set<() => void>();
let moved = false;

/** Whether the member has moved between screens since the page loaded. */
export function hasNavigated(): boolean {
  return moved;
}

export function navigate(to: string, replace = false): void {
  moved = true;
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  for (const l of listeners) l();
  window.scrollTo(0, 0);
}

window.addEventListener("popstate", () => {
  moved = true;
  for (const l of listeners) l();
});

// Same-origin links inside the app change screens without a page load.
document.addEventListener("click", (event) => {
  const a = (event.target as Element | null)?.closest?.("a");
  if (!a || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (a.target || a.hasAttribute("download") || a.origin !== location.origin) return;
  if (a.pathname.startsWith("/api/")) return;
  // An anchor on this page (the skip link): the browser scrolls and moves focus itself.
  if (a.hash && a.pathname === location.pathname && a.search === location.search) return;
  event.preventDefault();
  navigate(a.pathname + a.search);
});

export function useLocation(): URL {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((n) => n + 1);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return new URL(location.href);
}

/** `/meetings/:id` style matching; returns the parameters or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/");
  const s = path.replace(/\/+$/, "").split("/");
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(":")) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}
