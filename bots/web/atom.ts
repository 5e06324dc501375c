/**
 * `GET /feed.atom`: the portal's recent events as an Atom 1.0 feed (RFC 4287) for feed readers.
 * Entry ids are the event ids (`urn:bustle:event:<id>`), so a reader never shows an event twice;
 * the same filters as /api/events apply. Links are relative to the feed's own address.
 */
import { shownText } from "../../cluster/envelope.js";
import type { Entry } from "./history.js";

const xml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");

export interface AtomFeed {
  /** The portal bot's id: the feed's stable id. */
  bot: string;
  title: string;
  /** The query string the feed was asked with ("" or "?kind=shout"), kept in its self link. */
  query: string;
  /** Newest first. */
  entries: Entry[];
  /** When there are no entries: the feed's updated time. */
  now: Date;
}

function entry(e: Entry): string {
  const ev = e.event;
  const text = shownText(ev); // a bot's event carries its origin here too
  return `<entry>
<id>urn:bustle:event:${xml(ev.id)}</id>
<title type="text">${xml(text)}</title>
<updated>${xml(ev.ts)}</updated>
<author><name>${xml(ev.actor ?? "someone")}</name></author>
<category term="${xml(ev.kind)}"/>
<link rel="alternate" type="text/html" href="/"/>
<content type="text">${xml(`${text} (${ev.node}, ${ev.kind}, via ${ev.source})`)}</content>
</entry>
`;
}

export function renderAtom(f: AtomFeed): string {
  const updated = f.entries[0]?.event.ts ?? f.now.toISOString();
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>urn:bustle:portal:${xml(f.bot)}</id>
<title type="text">${xml(f.title)}</title>
<subtitle type="text">what is happening across the tildes</subtitle>
<updated>${xml(updated)}</updated>
<author><name>${xml(f.title)}</name></author>
<generator>bustle</generator>
<link rel="self" type="application/atom+xml" href="/feed.atom${xml(f.query)}"/>
<link rel="alternate" type="text/html" href="/"/>
${f.entries.map(entry).join("")}</feed>
`;
}
