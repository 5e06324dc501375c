/**
 * The live page's script, served as /app.js (never inline). It loads the recent events, then
 * follows /events from the last sequence it has, so a reconnect — after a network blip or a
 * restart of the portal — resumes without gaps or repeats. Every text goes in with
 * textContent: nothing from an event is ever parsed as HTML.
 */
export const PAGE_JS = String.raw`"use strict";
(function () {
  var MAX_ITEMS = 300;
  var feed = document.getElementById("feed");
  var empty = document.getElementById("empty");
  var statusEl = document.getElementById("status");
  var statusText = document.getElementById("status-text");
  var notice = document.getElementById("notice");
  var older = document.getElementById("older");
  var pauseButton = document.getElementById("pause");
  var paused = false;
  var waiting = []; // events that arrived while paused, oldest first
  var last = 0;
  var known = false; // whether "last" is a real position to resume from
  var oldest = Infinity;
  var source = null;
  var delay = 1000;
  var timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

  function setStatus(state, text) {
    statusEl.setAttribute("data-state", state);
    if (statusText.textContent !== text) statusText.textContent = text;
  }

  function valid(ev) {
    return ev && typeof ev.seq === "number" && typeof ev.text === "string" && typeof ev.ts === "string" &&
      typeof ev.node === "string" && typeof ev.kind === "string";
  }

  function pill(cls, text) {
    var s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function render(ev, fresh) {
    var li = document.createElement("li");
    li.className = fresh ? "event fresh" : "event";
    li.setAttribute("data-seq", String(ev.seq));
    if (typeof ev.id === "string") li.setAttribute("data-id", ev.id);
    var when = new Date(ev.ts);
    var t = document.createElement("time");
    t.dateTime = ev.ts;
    t.textContent = isNaN(when.getTime()) ? ev.ts : timeFmt.format(when);
    t.title = isNaN(when.getTime()) ? ev.ts : when.toLocaleString();
    var text = document.createElement("p");
    text.className = "text";
    text.textContent = ev.text;
    li.append(t, pill("node", ev.node), pill("kind", ev.kind), text);
    return li;
  }

  function refreshEmpty() {
    empty.hidden = feed.children.length > 0;
  }

  // A portal's own post can arrive just after a newer event: put it in its place, once.
  function addLate(ev) {
    if (ev.seq < oldest || feed.querySelector('[data-seq="' + ev.seq + '"]')) return;
    var items = feed.children;
    for (var i = 0; i < items.length; i++) {
      if (Number(items[i].getAttribute("data-seq")) < ev.seq) {
        feed.insertBefore(render(ev, true), items[i]);
        return;
      }
    }
  }

  function addNewest(ev, fresh) {
    if (!valid(ev)) return;
    if (ev.seq <= last) return addLate(ev);
    last = ev.seq;
    if (ev.seq < oldest) oldest = ev.seq;
    feed.prepend(render(ev, fresh));
    while (feed.children.length > MAX_ITEMS) {
      feed.lastElementChild.remove();
      oldest = Number(feed.lastElementChild.getAttribute("data-seq"));
      older.hidden = false;
    }
    refreshEmpty();
  }

  function addOlder(ev) {
    if (!valid(ev) || ev.seq >= oldest) return;
    oldest = ev.seq;
    feed.append(render(ev, false));
  }

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = false;
  }

  function fetchEvents(query) {
    return fetch("/api/events?" + query, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  function connect() {
    if (source) source.close();
    setStatus("connecting", last ? "reconnecting…" : "connecting…");
    source = new EventSource(known ? "/events?since=" + last : "/events");
    source.onopen = function () {
      delay = 1000;
      setStatus("live", "live");
    };
    source.onmessage = function (m) {
      var ev;
      try { ev = JSON.parse(m.data); } catch (e) { return; }
      if (paused) {
        waiting.push(ev);
        if (waiting.length > MAX_ITEMS) waiting.shift();
        pauseButton.textContent = "Resume (" + waiting.length + " new)";
        return;
      }
      addNewest(ev, true);
    };
    source.addEventListener("reset", function () {
      // The stream was recreated: our sequences mean nothing there any more. Start over.
      source.close();
      source = null;
      while (feed.firstChild) feed.firstChild.remove();
      last = 0;
      oldest = Infinity;
      known = false;
      waiting = [];
      start();
    });
    source.addEventListener("withdraw", function (m) {
      // Its node's admin took it back: it leaves the page (and the list of paused ones).
      var w;
      try { w = JSON.parse(m.data); } catch (e) { return; }
      if (!w || typeof w.id !== "string") return;
      waiting = waiting.filter(function (ev) { return ev.id !== w.id; });
      Array.prototype.forEach.call(feed.querySelectorAll("li[data-id]"), function (li) {
        if (li.getAttribute("data-id") === w.id) li.remove();
      });
      refreshEmpty();
    });
    source.addEventListener("gap", function () {
      showNotice("Some events from while you were away are too old to show here.");
    });
    source.onerror = function () {
      // Reconnect ourselves (not the browser's fixed retry) so we always resume from our own last sequence.
      source.close();
      source = null;
      setStatus("offline", "reconnecting…");
      setTimeout(start, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }

  function start() {
    if (known) return connect();
    fetchEvents("limit=50").then(function (page) {
      var list = Array.isArray(page.events) ? page.events.slice().reverse() : [];
      list.forEach(function (ev) { addNewest(ev, false); });
      if (typeof page.last_seq === "number" && page.last_seq > last) last = page.last_seq;
      known = true;
      older.hidden = !(page.events && page.events.length >= 50);
      refreshEmpty();
      connect();
    }, function () {
      setStatus("offline", "reconnecting…");
      setTimeout(start, delay);
      delay = Math.min(delay * 2, 15000);
    });
  }

  // A moving feed must be stoppable (WCAG 2.2.2): paused, new events wait and are counted.
  pauseButton.addEventListener("click", function () {
    paused = !paused;
    pauseButton.setAttribute("aria-pressed", String(paused));
    if (paused) {
      pauseButton.textContent = "Resume";
      return;
    }
    pauseButton.textContent = "Pause";
    var list = waiting;
    waiting = [];
    list.forEach(function (ev) { addNewest(ev, true); });
  });

  older.addEventListener("click", function () {
    older.disabled = true;
    fetchEvents("limit=50&before=" + oldest).then(function (page) {
      var list = Array.isArray(page.events) ? page.events : [];
      list.forEach(addOlder);
      older.hidden = list.length < 50;
    }, function () {
      showNotice("Could not load older events; try again in a moment.");
    }).finally(function () { older.disabled = false; });
  });

  start();
})();
`;
