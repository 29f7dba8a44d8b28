// tsunagu peer-support chat: makes a room live (WebSocket, long poll when the
// socket cannot be had), and tells a supporter of new messages in their rooms.
// A message shows as sent only once the server has stored it (its ack);
// unsent messages keep their client id and are sent again on reconnect, so
// the server stores each once. Without this script every form still works.
(function () {
  "use strict";
  var wsBase = (location.protocol === "https:" ? "wss://" : "ws://") + location.host;

  function newId() {
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function room(el) {
    var roomId = el.dataset.room, me = el.dataset.me, csrf = el.dataset.csrf;
    var last = parseInt(el.dataset.after || "0", 10);
    var list = document.getElementById("messages");
    var status = document.getElementById("status");
    var form = document.getElementById("send");
    var pending = {}; // client id -> {body, li}
    var ws = null, polling = false, retry = 1000;

    function show(m) {
      if (m.seq <= last && document.getElementById("m" + m.seq)) return;
      var li = document.getElementById("m" + m.seq);
      if (!li && pending[m.client_id] && String(m.author) === me) {
        li = pending[m.client_id].li; delete pending[m.client_id];
      }
      if (!li) { li = document.createElement("li"); list.appendChild(li); }
      li.id = "m" + m.seq;
      li.className = "msg" + (String(m.author) === me ? " mine" : "");
      li.dataset.seq = m.seq;
      li.textContent = "";
      var who = document.createElement("span"); who.className = "who";
      who.textContent = String(m.author) === me ? el.dataset.you : m.author_name;
      var body = document.createElement("span"); body.className = "body"; body.textContent = m.body;
      var meta = document.createElement("span"); meta.className = "meta"; meta.textContent = "#" + m.seq;
      li.appendChild(who); li.appendChild(body); li.appendChild(meta);
      if (m.seq > last) last = m.seq;
      var empty = document.getElementById("empty"); if (empty) empty.remove();
      li.scrollIntoView({ block: "end" });
      read();
    }

    function read() {
      if (ws && ws.readyState === 1) ws.send(JSON.stringify({ type: "read", seq: last }));
    }

    function helpLines(lines) {
      var box = document.getElementById("help"), ul = document.getElementById("help-lines");
      if (!box || !lines) return;
      ul.textContent = "";
      lines.forEach(function (l) {
        var li = document.createElement("li");
        var name = document.createElement("strong");
        name.textContent = el.dataset.lang === "ja" ? l.name_ja : l.name_en;
        var tel = document.createElement("a"); tel.href = "tel:" + l.number; tel.textContent = l.number;
        var src = document.createElement("small"); src.textContent = el.dataset.helpSource + ": " + l.source;
        li.appendChild(name); li.appendChild(document.createTextNode(" ")); li.appendChild(tel);
        if (l.hours_ja) li.appendChild(document.createTextNode(" (" + l.hours_ja + ")"));
        li.appendChild(document.createTextNode(" ")); li.appendChild(src);
        ul.appendChild(li);
      });
      box.hidden = false;
      box.scrollIntoView({ block: "start" });
    }

    function acked(a) {
      var p = pending[a.client_id];
      if (p) { p.li.querySelector(".meta").textContent = "#" + a.seq + " " + el.dataset.sent; }
      if (a.help_lines) helpLines(a.help_lines);
    }

    function sendPending() {
      Object.keys(pending).forEach(function (id) { send(id, pending[id].body); });
    }

    function send(id, body) {
      if (ws && ws.readyState === 1) {
        ws.send(JSON.stringify({ type: "send", client_id: id, body: body }));
        return;
      }
      var data = new URLSearchParams();
      data.set("_csrf", csrf); data.set("client_id", id); data.set("body", body); data.set("ajax", "1");
      fetch("/chat/rooms/" + roomId + "/messages", { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (p) { acked({ client_id: id, seq: p.message.seq, help_lines: p.help_lines }); show(p.message); })
        .catch(function () { status.textContent = el.dataset.failed; });
    }

    function poll() {
      if (polling) return;
      polling = true;
      (function again() {
        if (ws && ws.readyState === 1) { polling = false; return; }
        fetch("/chat/rooms/" + roomId + "/poll?after=" + last, { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
          .then(function (d) { d.messages.forEach(show); status.textContent = ""; setTimeout(again, 100); })
          .catch(function () { status.textContent = el.dataset.offline; setTimeout(again, 3000); });
      })();
    }

    function connect() {
      try { ws = new WebSocket(wsBase + "/chat/rooms/" + roomId + "/ws?after=" + last); } catch (e) { ws = null; poll(); return; }
      ws.onopen = function () { retry = 1000; status.textContent = ""; read(); sendPending(); };
      ws.onmessage = function (ev) {
        var f = JSON.parse(ev.data);
        if (f.type === "message") show(f.message);
        else if (f.type === "ack") acked(f);
        else if (f.type === "error" && f.client_id && pending[f.client_id]) {
          pending[f.client_id].li.querySelector(".meta").textContent = f.code;
          delete pending[f.client_id];
        }
      };
      ws.onclose = function (ev) {
        ws = null;
        // The session ended (signed out, or by an administrator): sign in again.
        if (ev && ev.code === 4401) { location.href = "/signin"; return; }
        status.textContent = el.dataset.offline;
        poll();
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 30000);
      };
    }

    if (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var box = form.querySelector("textarea");
        var body = box.value.trim();
        if (!body) return;
        var id = newId();
        var li = document.createElement("li");
        li.className = "msg mine pending";
        var b = document.createElement("span"); b.className = "body"; b.textContent = body;
        var meta = document.createElement("span"); meta.className = "meta"; meta.textContent = el.dataset.sending;
        li.appendChild(b); li.appendChild(meta);
        list.appendChild(li);
        pending[id] = { body: body, li: li };
        box.value = "";
        send(id, body);
      });
    }
    connect();
  }

  function inbox(el) {
    var notice = document.getElementById("inbox-notice");
    function connect() {
      var ws;
      try { ws = new WebSocket(wsBase + "/chat/inbox/ws"); } catch (e) { return; }
      ws.onmessage = function (ev) {
        var f = JSON.parse(ev.data);
        if (f.type !== "new") return;
        notice.textContent = notice.dataset.text;
        notice.hidden = false;
        var row = document.getElementById("room-" + f.room);
        if (row) row.classList.add("has-new");
      };
      ws.onclose = function () { setTimeout(connect, 5000); };
    }
    connect();
  }

  var chat = document.getElementById("chat");
  if (chat) room(chat);
  var box = document.getElementById("inbox");
  if (box) inbox(box);
})();
