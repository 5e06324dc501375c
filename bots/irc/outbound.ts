/**
 * An event's formatted text on its way to one channel: made wire-safe, de-pinged, split at the
 * channel's byte budget, and defused so no line can trigger another bot.
 */
import { DEFUSE_BYTES, defuseCommand, dePing, wireSafe } from "./sanitize.js";
import { splitForIrc, textBudget, type Prefix } from "./split.js";

/** Where the lines go and who must not be pinged there. */
export interface RenderOptions {
  prefix: Prefix;
  target: string;
  /** Nicks that must not be highlighted (the channel's members, the event's actor). */
  nicks: Iterable<string>;
  maxLines: number;
}

/** The PRIVMSG texts for `text` in `target`; empty when nothing printable is left. */
export function renderLines(text: string, o: RenderOptions): string[] {
  const safe = wireSafe(text);
  if (!safe) return [];
  const budget = textBudget(o.prefix, o.target) - DEFUSE_BYTES;
  return splitForIrc(dePing(safe, o.nicks), budget, o.maxLines).map(defuseCommand);
}
