{% load static %}/* Pinboard's service worker (served at /sw.js by messaging/views/pwa.py, scope "/").
 * It shows Web Push notifications, opens the right page when one is clicked, and shows the
 * offline page when a page can't be loaded. Nothing else is cached: pages are always fresh. */
"use strict";

const CACHE = "pinboard-offline-{{ version }}";
const OFFLINE_URL = "{{ offline_url|escapejs }}";
const PRECACHE = [{% for url in precache %}"{{ url|escapejs }}"{% if not forloop.last %}, {% endif %}{% endfor %}];
const ICON = "{% static 'icons/icon-192.png' %}";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  // A new version's files replace the old ones (the cache name changes with the static hashes).
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
    return;
  }
  // The offline page's own stylesheet and icons, when the network is gone.
  const url = new URL(request.url);
  if (url.origin === self.location.origin && PRECACHE.includes(url.pathname)) {
    event.respondWith(fetch(request).catch(() => caches.match(url.pathname)));
  }
});

// The payload messaging/push.py sends: {title, body, url, tag, icon, badge}.
function readPush(data) {
  if (!data) return { title: "Pinboard" };
  try {
    return data.json();
  } catch (error) {
    return { title: "Pinboard", body: data.text() };
  }
}

self.addEventListener("push", (event) => {
  const push = readPush(event.data);
  const shown = self.registration.showNotification(push.title || "Pinboard", {
    body: push.body || "",
    icon: push.icon || ICON,
    tag: push.tag || "",
    // A newer push with the same tag (the same conversation) replaces the older one, and still
    // buzzes.
    renotify: Boolean(push.tag),
    data: { url: push.url || "/" },
  });
  const badge = "setAppBadge" in self.navigator && typeof push.badge === "number"
    ? (push.badge > 0 ? self.navigator.setAppBadge(push.badge) : self.navigator.clearAppBadge()).catch(() => {})
    : Promise.resolve();
  event.waitUntil(Promise.all([shown, badge]));
});

// The tab to show a notification's page in: one already on that page, else one of ours sent
// there, else a new window. Focusing needs the click's user activation; without it (a test
// calling this directly) the tab is still moved.
function focusIfAllowed(client) {
  return client.focus().catch(() => client);
}

async function openNotificationUrl(path) {
  const target = new URL(path || "/", self.location.origin);
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const same = windows.find((client) => new URL(client.url).pathname === target.pathname);
  if (same) return focusIfAllowed(same);
  for (const client of windows) {
    // navigate() works only on a tab this worker controls; others reject and are skipped.
    const moved = await client.navigate(target.href).catch(() => null);
    if (moved) return focusIfAllowed(moved);
  }
  return self.clients.openWindow(target.href);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openNotificationUrl(event.notification.data && event.notification.data.url));
});
