/**
 * The live page's stylesheet: light and dark schemes with high contrast (body text well above
 * WCAG AA), visible focus, and a gentle arrival animation that is off under
 * prefers-reduced-motion.
 */
export const PAGE_CSS = `:root {
  --bg: #fbf8f3; --panel: #ffffff; --ink: #1f1d1a; --muted: #575048; --line: #e4ddd1;
  --accent: #5b2a86; --accent-ink: #ffffff; --fresh: #fff1c2; --ok: #1d6b3a; --warn: #8a4b00;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, Ubuntu, Cantarell, sans-serif;
  line-height: 1.5; color: var(--ink); background: var(--bg);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #16141b; --panel: #201d27; --ink: #eeeaf4; --muted: #b9b1c6; --line: #37323f;
    --accent: #d7b4ff; --accent-ink: #16141b; --fresh: #3a3150; --ok: #7ee2a1; --warn: #ffc76b;
  }
}
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; flex-direction: column; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--accent); color: var(--accent-ink); padding: .5rem 1rem; }
.skip:focus { left: 0; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.top {
  display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; justify-content: space-between;
  padding: 1.25rem max(1rem, calc((100vw - 46rem) / 2 + 1rem)); border-bottom: 1px solid var(--line); background: var(--panel);
}
h1 { margin: 0; font-size: 1.6rem; letter-spacing: -.01em; }
.tilde { color: var(--accent); margin-right: .1em; }
.sub { margin: 0; color: var(--muted); font-size: .95rem; }
.controls { display: flex; align-items: center; gap: 1rem; }
#pause[aria-pressed="true"] { background: var(--accent); color: var(--accent-ink); }
.status { margin: 0; display: inline-flex; align-items: center; gap: .5rem; font-size: .9rem; color: var(--muted); }
.dot { width: .7rem; height: .7rem; border-radius: 50%; background: var(--warn); }
.status[data-state="live"] .dot { background: var(--ok); }
.status[data-state="live"] { color: var(--ink); }
main { flex: 1; width: 100%; max-width: 46rem; margin: 0 auto; padding: 1rem; }
.feed { list-style: none; margin: 0; padding: 0; }
.event {
  display: grid; grid-template-columns: auto auto 1fr; gap: .15rem .6rem; align-items: baseline;
  padding: .7rem .9rem; margin: 0 0 .5rem; background: var(--panel); border: 1px solid var(--line); border-radius: .6rem;
}
.event time { color: var(--muted); font-variant-numeric: tabular-nums; font-size: .85rem; }
.node, .kind { font-size: .8rem; padding: 0 .45rem; border-radius: 1rem; border: 1px solid var(--line); color: var(--muted); justify-self: start; }
.node { color: var(--accent); border-color: currentColor; }
.text { grid-column: 1 / -1; margin: 0; overflow-wrap: anywhere; font-size: 1.02rem; }
.event.fresh { animation: arrive 2.4s ease-out; }
@keyframes arrive {
  from { background: var(--fresh); transform: translateY(-.4rem); }
  15% { transform: none; }
  to { background: var(--panel); }
}
@media (prefers-reduced-motion: reduce) {
  .event.fresh { animation: none; }
}
.empty { color: var(--muted); text-align: center; padding: 2rem 0; }
.notice { background: var(--panel); border: 1px solid var(--warn); border-radius: .5rem; padding: .5rem .9rem; }
.more { text-align: center; }
button {
  font: inherit; padding: .45rem 1.1rem; border-radius: .5rem; border: 1px solid var(--accent);
  background: var(--panel); color: var(--ink); cursor: pointer;
}
button:hover { background: var(--accent); color: var(--accent-ink); }
footer { color: var(--muted); font-size: .85rem; text-align: center; padding: 1rem; border-top: 1px solid var(--line); }
`;
