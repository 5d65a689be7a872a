// The service worker, hand-written (about 100 lines): the app shell offline, Web Push shown in
// Vietnamese. It never caches /api/: what a member read is kept by the app in IndexedDB keyed by
// member, so no response carrying personal data or a token lands in the Cache API by accident.
const sw = globalThis as unknown as ServiceWorkerGlobalScope;
declare const __BUILD_ID__: string;

const SHELL = `sotay-shell-${__BUILD_ID__}`;
const STATIC = ["/", "/manifest.webmanifest", "/icon.svg", "/icon-192.png"];

async function cacheShell(): Promise<void> {
  const cache = await caches.open(SHELL);
  await cache.addAll(STATIC);
  // The hashed scripts and styles index.html loads.
  const index = await (await cache.match("/"))!.text();
  const assets = [...index.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  await cache.addAll(assets);
}

sw.addEventListener("install", (event) => {
  event.waitUntil(cacheShell().then(() => sw.skipWaiting()));
});

sw.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("sotay-shell-") && name !== SHELL) await caches.delete(name);
      }
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== sw.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate") {
    // Network first so a new release shows at once; the cached shell when offline.
    event.respondWith(
      fetch(request).catch(async () => (await caches.match("/", { cacheName: SHELL })) ?? Response.error()),
    );
    return;
  }
  if (url.pathname.startsWith("/assets/")) {
    // Hashed file names never change content: cache first, keep what was fetched (lazy chunks).
    event.respondWith(
      (async () => {
        const cached = await caches.match(request, { cacheName: SHELL });
        if (cached) return cached;
        const response = await fetch(request);
        if (response.ok) await (await caches.open(SHELL)).put(request, response.clone());
        return response;
      })(),
    );
    return;
  }
  event.respondWith(
    (async () => (await caches.match(request, { cacheName: SHELL })) ?? fetch(request))(),
  );
});

interface PushPayload {
  title?: string;
  body?: string;
  link?: string;
  id?: string;
  urgent?: boolean;
}

sw.addEventListener("push", (event) => {
  let payload: PushPayload = {};
  try {
    payload = (event.data?.json() ?? {}) as PushPayload;
  } catch {
    payload = { body: event.data?.text() };
  }
  event.waitUntil(
    sw.registration.showNotification(payload.title || "Sổ tay Đảng viên", {
      body: payload.body ?? "",
      lang: "vi",
      icon: "/icon-192.png",
      tag: payload.id,
      requireInteraction: payload.urgent ?? false,
      data: { link: payload.link || "/inbox" },
    }),
  );
});

sw.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const link = new URL((event.notification.data as { link?: string })?.link ?? "/inbox", sw.location.origin);
  event.waitUntil(
    (async () => {
      const windows = await sw.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = windows.find((w) => new URL(w.url).origin === link.origin);
      if (open) {
        await open.navigate(link.href);
        await open.focus();
      } else {
        await sw.clients.openWindow(link.href);
      }
    })(),
  );
});
