// tsunagu's service worker (#10): the family's own record and its
// questionnaires stay readable offline. Only a family's own pages are kept
// (never a staff page: staff never load the script that registers this),
// only answers that are the page itself (not a redirect to sign in), and
// everything is forgotten at sign-out (the page deletes the cache; the
// sign-out answer also sends Clear-Site-Data).
const CACHE = 'tsunagu-family-v1';
const OWN = ['/me', '/me/screenings', '/static/app.css'];

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !OWN.includes(url.pathname) || url.search) {
    return;
  }
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok && !response.redirected && response.type === 'basic') {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(url.pathname, copy)));
        }
        return response;
      })
      .catch(() => caches.match(url.pathname).then((kept) => kept || Response.error())),
  );
});

// Web push (#10): a reminder's notification — the title and the day from
// the payload (no name, nothing of health); a tap opens わが家の記録.
self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = {};
  }
  const title = typeof data.title === 'string' ? data.title : 'tsunagu';
  const body = typeof data.body === 'string' ? data.body : '';
  event.waitUntil(self.registration.showNotification(title, { body, icon: '/static/icon.svg', data: { url: '/me' } }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => new URL(w.url).pathname === '/me');
      return open ? open.focus() : self.clients.openWindow('/me');
    }),
  );
});
