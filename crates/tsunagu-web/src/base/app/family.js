// Loaded on a family's own pages only (#10): makes them an installable app
// that keeps the family's record readable offline, and forgets it at sign-out.
(function () {
  'use strict';
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(function () {});
  }
  var out = document.getElementById('signout');
  if (out && window.caches) {
    out.form.addEventListener('submit', function () {
      caches.delete('tsunagu-family-v1');
    });
  }

  // The reminders page's push switch (#10): subscribes this browser with the
  // service's VAPID key and posts the subscription to /me/reminders/push
  // (the same checked input as the JSON API); unsubscribing removes it.
  var form = document.getElementById('push-form');
  if (form) {
    var box = document.getElementById('push-on');
    var status = document.getElementById('push-status');
    var supported = 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
    if (!supported) {
      form.hidden = true;
      document.getElementById('push-unsupported').hidden = false;
    } else {
      var say = function (key) { status.textContent = form.dataset[key] || ''; };
      var key = function () {
        var s = form.dataset.vapid.replace(/-/g, '+').replace(/_/g, '/');
        var raw = atob(s + '='.repeat((4 - (s.length % 4)) % 4));
        var out = new Uint8Array(raw.length);
        for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
        return out;
      };
      var send = function (op, sub) {
        var json = sub.toJSON();
        var body = new URLSearchParams();
        body.set('_csrf', form.elements._csrf.value);
        body.set('op', op);
        body.set('endpoint', json.endpoint || '');
        body.set('p256dh', (json.keys && json.keys.p256dh) || '');
        body.set('auth', (json.keys && json.keys.auth) || '');
        return fetch(form.action, { method: 'POST', body: body, credentials: 'same-origin' }).then(function (r) {
          if (!r.ok) { throw new Error('refused'); }
        });
      };
      navigator.serviceWorker.ready.then(function (reg) {
        return reg.pushManager.getSubscription().then(function (sub) {
          box.checked = !!sub;
          box.disabled = false;
          say(sub ? 'on' : 'off');
          box.addEventListener('change', function () {
            box.disabled = true;
            var done = box.checked
              ? Notification.requestPermission().then(function (p) {
                  if (p !== 'granted') { throw new Error('denied'); }
                  return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key() });
                }).then(function (s) { return send('subscribe', s); })
              : reg.pushManager.getSubscription().then(function (s) {
                  if (!s) { return null; }
                  return send('unsubscribe', s).then(function () { return s.unsubscribe(); });
                });
            done.then(function () { say(box.checked ? 'on' : 'off'); }, function (e) {
              box.checked = !box.checked;
              say(e && e.message === 'denied' ? 'denied' : 'failed');
            }).then(function () { box.disabled = false; });
          });
        });
      });
    }
  }
})();
