/**
 * The live page's HTML: semantic, self-contained (no external resource), no inline script or
 * style (the strict CSP forbids them). The only server-side text in it is the configured title,
 * which is HTML-escaped all the same; event texts are added by the script with textContent.
 */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export function renderPage(title: string): string {
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>${t}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/app.css">
<link rel="alternate" type="application/atom+xml" title="${t} (Atom)" href="/feed.atom">
<script src="/app.js" defer></script>
</head>
<body>
<a class="skip" href="#feed">Skip to the feed</a>
<header class="top">
  <div class="brand">
    <h1><span class="tilde" aria-hidden="true">~</span>${t}</h1>
    <p class="sub">what is happening across the tildes, as it happens · <a href="/feed.atom" type="application/atom+xml">Atom feed</a></p>
  </div>
  <div class="controls">
    <p id="status" class="status" data-state="connecting" role="status" aria-live="polite">
      <span class="dot" aria-hidden="true"></span><span id="status-text">connecting…</span>
    </p>
    <button id="pause" type="button" aria-pressed="false">Pause</button>
  </div>
</header>
<main>
  <h2 class="visually-hidden">Latest events, newest first</h2>
  <p id="notice" class="notice" hidden></p>
  <ol id="feed" class="feed" aria-live="polite" aria-relevant="additions" aria-label="Latest events, newest first"></ol>
  <p id="empty" class="empty">Nothing yet. Events appear here the moment they happen.</p>
  <p class="more"><button id="older" type="button" hidden>Show older events</button></p>
  <noscript><p class="notice">This page needs JavaScript to update live. The latest events are also at <a href="/api/events">/api/events</a>.</p></noscript>
</main>
<footer>
  <p>Also as <a href="/api/events">JSON</a> and as a <a href="/events">live event stream</a>. Powered by bustle.</p>
</footer>
</body>
</html>
`;
}

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#5b2a86"/><path d="M12 38c6-12 14-12 20-6s14 6 20-6" fill="none" stroke="#ffe8a3" stroke-width="7" stroke-linecap="round"/></svg>
`;
