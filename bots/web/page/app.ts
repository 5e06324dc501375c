/**
 * The live page's script, served as /app.js (never inline). It loads the recent events, then
 * follows /events from the last sequence it has, so a reconnect — after a network blip or a
 * restart of the portal — resumes without gaps or repeats. Every text goes in with
 * textContent: nothing from an event is ever parsed as HTML.
 *
 * Browser code: compiled by ./tsconfig.json (DOM types, no Node types) to a classic script;
 * the function wrapper keeps its names out of the page's global scope.
 */

/** One event as /api/events and /events carry it (only the fields the page shows). */
interface PageEvent {
  seq: number;
  text: string;
  ts: string;
  node: string;
  kind: string;
  id?: string;
}

/** A page of /api/events. */
interface EventsPage {
  events?: unknown[];
  last_seq?: number;
}

(function () {
  const MAX_ITEMS = 300;

  function byId<T extends HTMLElement>(id: string): T {
    const el = document.getElementById(id);
    if (!el) throw new Error(`the page has no #${id}`);
    return el as T;
  }

  const feed = byId<HTMLOListElement>("feed");
  const empty = byId("empty");
  const statusEl = byId("status");
  const statusText = byId("status-text");
  const notice = byId("notice");
  const older = byId<HTMLButtonElement>("older");
  const pauseButton = byId<HTMLButtonElement>("pause");
  let paused = false;
  let waiting: unknown[] = []; // events that arrived while paused, oldest first
  let last = 0;
  let known = false; // whether "last" is a real position to resume from
  let oldest = Infinity;
  let source: EventSource | null = null;
  let delay = 1000;
  const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

  function setStatus(state: "connecting" | "live" | "offline", text: string): void {
    statusEl.setAttribute("data-state", state);
    if (statusText.textContent !== text) statusText.textContent = text;
  }

  function valid(ev: unknown): ev is PageEvent {
    if (typeof ev !== "object" || ev === null) return false;
    const e = ev as Record<string, unknown>;
    return (
      typeof e.seq === "number" &&
      typeof e.text === "string" &&
      typeof e.ts === "string" &&
      typeof e.node === "string" &&
      typeof e.kind === "string"
    );
  }

  function pill(cls: string, text: string): HTMLSpanElement {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function render(ev: PageEvent, fresh: boolean): HTMLLIElement {
    const li = document.createElement("li");
    li.className = fresh ? "event fresh" : "event";
    li.setAttribute("data-seq", String(ev.seq));
    if (typeof ev.id === "string") li.setAttribute("data-id", ev.id);
    const when = new Date(ev.ts);
    const t = document.createElement("time");
    t.dateTime = ev.ts;
    t.textContent = Number.isNaN(when.getTime()) ? ev.ts : timeFmt.format(when);
    t.title = Number.isNaN(when.getTime()) ? ev.ts : when.toLocaleString();
    const text = document.createElement("p");
    text.className = "text";
    text.textContent = ev.text;
    li.append(t, pill("node", ev.node), pill("kind", ev.kind), text);
    return li;
  }

  function refreshEmpty(): void {
    empty.hidden = feed.children.length > 0;
  }

  // A portal's own post can arrive just after a newer event: put it in its place, once.
  function addLate(ev: PageEvent): void {
    if (ev.seq < oldest || feed.querySelector('[data-seq="' + ev.seq + '"]')) return;
    const items = feed.children;
    for (let i = 0; i < items.length; i++) {
      if (Number(items[i]!.getAttribute("data-seq")) < ev.seq) {
        feed.insertBefore(render(ev, true), items[i]!);
        return;
      }
    }
  }

  function addNewest(ev: unknown, fresh: boolean): void {
    if (!valid(ev)) return;
    if (ev.seq <= last) return addLate(ev);
    last = ev.seq;
    if (ev.seq < oldest) oldest = ev.seq;
    feed.prepend(render(ev, fresh));
    while (feed.children.length > MAX_ITEMS) {
      feed.lastElementChild!.remove();
      oldest = Number(feed.lastElementChild!.getAttribute("data-seq"));
      older.hidden = false;
    }
    refreshEmpty();
  }

  function addOlder(ev: unknown): void {
    if (!valid(ev) || ev.seq >= oldest) return;
    oldest = ev.seq;
    feed.append(render(ev, false));
  }

  function showNotice(text: string): void {
    notice.textContent = text;
    notice.hidden = false;
  }

  function fetchEvents(query: string): Promise<EventsPage> {
    return fetch("/api/events?" + query, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json() as Promise<EventsPage>;
    });
  }

  /** The data of a server-sent message as JSON, or undefined when it is not JSON. */
  function parse(m: MessageEvent<string>): unknown {
    try {
      return JSON.parse(m.data) as unknown;
    } catch {
      return undefined;
    }
  }

  function connect(): void {
    if (source) source.close();
    setStatus("connecting", last ? "reconnecting…" : "connecting…");
    const es = new EventSource(known ? "/events?since=" + last : "/events");
    source = es;
    es.onopen = function () {
      delay = 1000;
      setStatus("live", "live");
    };
    es.onmessage = function (m: MessageEvent<string>) {
      const ev = parse(m);
      if (ev === undefined) return;
      if (paused) {
        waiting.push(ev);
        if (waiting.length > MAX_ITEMS) waiting.shift();
        pauseButton.textContent = "Resume (" + waiting.length + " new)";
        return;
      }
      addNewest(ev, true);
    };
    es.addEventListener("reset", function () {
      // The stream was recreated: our sequences mean nothing there any more. Start over.
      es.close();
      source = null;
      while (feed.firstChild) feed.firstChild.remove();
      last = 0;
      oldest = Infinity;
      known = false;
      waiting = [];
      start();
    });
    es.addEventListener("withdraw", function (m: MessageEvent<string>) {
      // Its node's admin took it back: it leaves the page (and the list of paused ones).
      const w = parse(m) as { id?: unknown } | null | undefined;
      if (!w || typeof w.id !== "string") return;
      const id = w.id;
      waiting = waiting.filter(function (ev) {
        return (ev as { id?: unknown } | null)?.id !== id;
      });
      feed.querySelectorAll("li[data-id]").forEach(function (li) {
        if (li.getAttribute("data-id") === id) li.remove();
      });
      refreshEmpty();
    });
    es.addEventListener("gap", function () {
      showNotice("Some events from while you were away are too old to show here.");
    });
    es.onerror = function () {
      // Reconnect ourselves (not the browser's fixed retry) so we always resume from our own last sequence.
      es.close();
      source = null;
      setStatus("offline", "reconnecting…");
      setTimeout(start, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }

  function start(): void {
    if (known) return connect();
    fetchEvents("limit=50").then(
      function (page) {
        const events = Array.isArray(page.events) ? page.events : [];
        events
          .slice()
          .reverse()
          .forEach(function (ev) {
            addNewest(ev, false);
          });
        if (typeof page.last_seq === "number" && page.last_seq > last) last = page.last_seq;
        known = true;
        older.hidden = !(events.length >= 50);
        refreshEmpty();
        connect();
      },
      function () {
        setStatus("offline", "reconnecting…");
        setTimeout(start, delay);
        delay = Math.min(delay * 2, 15000);
      },
    );
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
    const list = waiting;
    waiting = [];
    list.forEach(function (ev) {
      addNewest(ev, true);
    });
  });

  older.addEventListener("click", function () {
    older.disabled = true;
    fetchEvents("limit=50&before=" + oldest)
      .then(
        function (page) {
          const list = Array.isArray(page.events) ? page.events : [];
          list.forEach(addOlder);
          older.hidden = list.length < 50;
        },
        function () {
          showNotice("Could not load older events; try again in a moment.");
        },
      )
      .finally(function () {
        older.disabled = false;
      });
  });

  start();
})();
