/**
 * Splitting a line at a byte budget. An IRC line is at most 512 bytes including CRLF, and the
 * server prepends `:nick!user@host PRIVMSG #chan :` when it relays our message, so the text of
 * one PRIVMSG gets what is left of 510 bytes after that prefix. Splits fall on spaces where
 * possible and never inside a UTF-8 character.
 */

/** The longest host part we assume the server will show for us (cloaks and vhosts vary). */
export const ASSUMED_HOST_BYTES = 63;
/** IRC line limit without the CRLF. */
const LINE_BYTES = 510;

/** Our `nick!user@host` as the server shows it to others. */
export interface Prefix {
  nick: string;
  /** The ident as the server may show it; a `~` is added when identd is absent, so we count it. */
  username: string;
  /** The host the server shows, when known; otherwise ASSUMED_HOST_BYTES are reserved. */
  host?: string | undefined;
}

const bytes = (s: string): number => Buffer.byteLength(s, "utf8");

/** Bytes left for the text of `PRIVMSG target :text` relayed with the given prefix. */
export function textBudget(prefix: Prefix, target: string): number {
  const host = prefix.host ? Math.max(bytes(prefix.host), ASSUMED_HOST_BYTES) : ASSUMED_HOST_BYTES;
  // ":" nick "!" "~" user "@" host " PRIVMSG " target " :"
  const overhead =
    1 + bytes(prefix.nick) + 1 + 1 + bytes(prefix.username) + 1 + host + " PRIVMSG ".length + bytes(target) + 2;
  return LINE_BYTES - overhead;
}

/**
 * Splits `text` (one line, already wire-safe) into pieces of at most `maxBytes` UTF-8 bytes.
 * Prefers the last space inside the budget; a word longer than the budget is cut between code
 * points. Spaces at the split points are dropped; no piece is empty.
 */
export function splitBytes(text: string, maxBytes: number): string[] {
  if (maxBytes < 4) throw new RangeError(`byte budget ${maxBytes} is too small for one UTF-8 character`);
  const out: string[] = [];
  let rest = text.trim();
  while (rest) {
    if (bytes(rest) <= maxBytes) {
      out.push(rest);
      break;
    }
    // The longest prefix of whole code points within the budget.
    let cut = 0;
    let used = 0;
    for (const ch of rest) {
      const b = bytes(ch);
      if (used + b > maxBytes) break;
      used += b;
      cut += ch.length;
    }
    // Back off to the last space if that keeps a reasonable share of the line (avoids tiny pieces).
    const space = rest.lastIndexOf(" ", cut);
    const at = space > 0 && space >= cut / 2 ? space : cut;
    out.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).trimStart();
  }
  return out;
}

/**
 * Splits and caps: at most `maxLines` pieces; when more would be needed, the last piece ends
 * with "…" (within the budget) so readers see the text was cut.
 */
export function splitForIrc(text: string, maxBytes: number, maxLines: number): string[] {
  const pieces = splitBytes(text, maxBytes);
  if (pieces.length <= maxLines) return pieces;
  const kept = pieces.slice(0, maxLines);
  const ell = "…";
  const last = splitBytes(kept[maxLines - 1]!, maxBytes - bytes(ell) - 1)[0] ?? "";
  kept[maxLines - 1] = `${last} ${ell}`.trimStart();
  return kept;
}
