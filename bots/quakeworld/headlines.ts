/**
 * Deciding when a server's status is worth a line. Each poll gives a snapshot; the headline is
 * what a person would say about it (nobody there / N players on map M / the server is full).
 * A new headline is published when it has held for two polls in a row (so a burst of arrivals
 * becomes one line) and at least `windowMs` after the previous line for that server (changes in
 * between are coalesced into the latest state). The first snapshot only sets the baseline, so a
 * restarted bot does not announce what is already going on. Pure: the clock is passed in.
 */

export interface Snapshot {
  players: number;
  map: string;
  /** 0 when the server does not say. */
  maxclients: number;
}

export interface HeadlineOptions {
  /** The server's name in sentences. */
  name: string;
  windowMs: number;
}

export interface Headline {
  key: string;
  text: string;
  data: Record<string, unknown>;
}

export function headlineOf(s: Snapshot, name: string): Headline {
  const map = s.map || "?";
  const data = { server: name, players: s.players, map };
  if (s.players === 0) return { key: "empty", text: `nobody is fragging on ${name} any more`, data };
  const full = s.maxclients > 0 && s.players >= s.maxclients;
  if (full) return { key: `full:${map}`, text: `${name} is full: ${s.players} players are fragging (${map})`, data };
  const who = s.players === 1 ? "1 player is" : `${s.players} players are`;
  return { key: `play:${map}`, text: `${who} fragging on ${name} (${map})`, data };
}

export class Headlines {
  private announced: string | undefined;
  private previous: string | undefined;
  private lastAt = -Infinity;

  constructor(private readonly opts: HeadlineOptions) {}

  /** The line to publish for this poll's snapshot, if any. */
  observe(s: Snapshot, now: number): Headline | undefined {
    const h = headlineOf(s, this.opts.name);
    const stable = h.key === this.previous;
    this.previous = h.key;
    if (this.announced === undefined) {
      this.announced = h.key;
      return undefined;
    }
    if (h.key === this.announced || !stable) return undefined;
    if (now - this.lastAt < this.opts.windowMs) return undefined;
    // "Nobody any more" only makes sense after someone was announced or seen.
    this.announced = h.key;
    this.lastAt = now;
    return h;
  }
}
