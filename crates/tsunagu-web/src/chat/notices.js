// tsunagu peer-support chat: the count of rooms with unread messages in the
// page's header, on every page a parent or supporter sees. Live over the
// inbox socket; when that cannot be had, asked again every 30 seconds. A
// desktop notification (never the message's text) only when the reader
// allowed them (the button on the rooms page asks) and the page is hidden.
(function () {
  "use strict";
  var badge = document.getElementById("chat-unread");
  if (!badge) return;
  var wsBase = (location.protocol === "https:" ? "wss://" : "ws://") + location.host;
  var polling = null;

  function show(n) {
    badge.textContent = n > 0 ? String(n) : "";
    badge.hidden = !(n > 0);
  }

  function poll() {
    fetch("/chat/unread", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) { if (j && typeof j.rooms === "number") show(j.rooms); })
      .catch(function () {});
  }

  function startPolling() {
    if (polling) return;
    poll();
    polling = setInterval(poll, 30000);
  }

  function notify() {
    if (!("Notification" in window) || Notification.permission !== "granted" || !document.hidden) return;
    try { new Notification(badge.dataset.notice); } catch (e) { /* not allowed here */ }
  }

  function connect() {
    var ws;
    try { ws = new WebSocket(wsBase + "/chat/inbox/ws"); } catch (e) { startPolling(); return; }
    ws.onopen = function () { if (polling) { clearInterval(polling); polling = null; } };
    ws.onmessage = function (ev) {
      var f = JSON.parse(ev.data);
      if (f.type === "unread") show(f.rooms);
      else if (f.type === "new") notify();
    };
    ws.onclose = function () { startPolling(); setTimeout(connect, 15000); };
  }

  var ask = document.getElementById("enable-notices");
  if (ask && "Notification" in window && Notification.permission === "default") {
    ask.hidden = false;
    ask.addEventListener("click", function () {
      Notification.requestPermission().then(function () { ask.hidden = true; });
    });
  }
  connect();
})();
