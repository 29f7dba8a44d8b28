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
})();
