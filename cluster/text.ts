/**
 * Making untrusted text safe for a terminal, a log line and every bot: one line, no control
 * characters, no escape sequences, bounded length.
 */

export const MAX_TEXT_CHARS = 400;

// ESC-introduced sequences: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC (ESC ] ... BEL or ST),
// and two-character escapes. Also their 8-bit C1 forms (U+009B CSI, U+009D OSC, ...).
const ESCAPE_SEQUENCE =
  /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]?|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[ -/]*[0-~]?/g;
// C0 and C1 controls, DEL, and invisible format characters that can reorder or hide text
// (bidi overrides and isolates, zero-width joiners are kept out of shared logs).
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const LINE_BREAKS_AND_TABS = /[\r\n\t\v\f\u0085\u2028\u2029]+/g;

export interface SanitizeResult {
  text: string;
  /** True when anything was removed or shortened (worth an audit note). */
  changed: boolean;
}

/**
 * Returns `text` as one safe line: escape sequences removed, line breaks and tabs folded to a
 * space, other control characters removed, runs of spaces collapsed, trimmed, and cut to
 * `max` characters (code points) with an ellipsis.
 */
export function sanitizeText(input: string, max = MAX_TEXT_CHARS): SanitizeResult {
  let text = input
    .replace(ESCAPE_SEQUENCE, "")
    .replace(LINE_BREAKS_AND_TABS, " ")
    .replace(CONTROL, "")
    .replace(/ {2,}/g, " ")
    .trim();
  const chars = Array.from(text);
  if (chars.length > max) text = chars.slice(0, max - 1).join("").trimEnd() + "…";
  return { text, changed: text !== input };
}

/** Sanitised text, without the report. */
export const safeText = (input: string, max = MAX_TEXT_CHARS): string => sanitizeText(input, max).text;

// Anything sanitizeText would change: controls (every escape sequence starts with one), line
// breaks, doubled or outer spaces.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u2028\u2029]| {2}|^ | $/;

/** True when `text` is already what `sanitizeText` would make of it (checked without rebuilding it). */
export function isSafeText(text: string, max = MAX_TEXT_CHARS): boolean {
  if (UNSAFE.test(text)) return false;
  // Length in code points; only strings that could be too long are counted.
  return text.length <= max || Array.from(text).length <= max;
}
