/**
 * Text on its way to and from IRC. Outbound: nothing that could end a line or start a command
 * reaches the wire, relayed nicks do not highlight anyone, and lines cannot trigger other bots.
 * Inbound: IRC formatting codes are removed before anything reaches bustle.
 */
import { safeText } from "../../cluster/text.js";

/** U+200B: invisible in clients, but breaks nick highlighting and `!command` matching. */
export const ZWSP = "\u200b";

/**
 * One line safe for a PRIVMSG: escape sequences and every C0/C1 control (CR, LF, NUL, IRC
 * formatting bytes) removed, line breaks folded to spaces. Unlike event texts, no length cap:
 * splitting happens later, at a byte budget.
 */
export function wireSafe(text: string): string {
  return safeText(text, Number.MAX_SAFE_INTEGER);
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
// Characters that may appear in a nick; a nick is "whole" when it is not flanked by them
// (nor preceded by a channel prefix: "#bustle" stays a working channel name).
const NICK_CHAR = "A-Za-z0-9_\\-\\[\\]\\\\`^{}|";

/**
 * Puts a zero-width space after the first character of each whole-word occurrence of the given
 * nicks (case-insensitive), so relaying "~alice shouts" does not ping alice. Nicks shorter than
 * two characters are left alone (breaking them would mangle ordinary words).
 */
export function dePing(text: string, nicks: Iterable<string>): string {
  const list = [...new Set([...nicks].filter((n) => n.length >= 2))].sort((a, b) => b.length - a.length);
  if (!list.length) return text;
  const re = new RegExp(`(?<![${NICK_CHAR}#&])(${list.map(escapeRe).join("|")})(?![${NICK_CHAR}])`, "gi");
  return text.replace(re, (nick: string) => {
    const first = Array.from(nick)[0]!;
    return first + ZWSP + nick.slice(first.length);
  });
}

/**
 * A line starting with `!` or `.` (after optional spaces) would look like a command to other
 * bots in the channel; a leading zero-width space defuses it. Returns the line unchanged otherwise.
 */
export function defuseCommand(line: string): string {
  return /^\s*[!.]/.test(line) ? ZWSP + line : line;
}

/** Bytes `defuseCommand` may add, reserved in the split budget. */
export const DEFUSE_BYTES = Buffer.byteLength(ZWSP);

// mIRC colours (\x03 with up to two digits, optionally ",bg"), hex colours (\x04 RRGGBB[,RRGGBB]),
// and the single-byte toggles: bold, reset, monospace, reverse, italic, strikethrough, underline.
const IRC_FORMATTING =
  /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g;

/** IRC formatting and CTCP markers removed, then made into one safe bustle line. */
export function stripFormatting(text: string): string {
  return safeText(text.replace(IRC_FORMATTING, "").replace(/\x01/g, ""));
}
