/**
 * Making untrusted text safe for a terminal, a log line and every bot: one line, no control
 * characters, no escape sequences, nothing invisible, bounded length.
 *
 * The character classes are written out as explicit ranges, not Unicode property escapes: every
 * node must judge the same text the same way (logs stay byte-identical) whatever Node and ICU
 * version it runs.
 */

export const MAX_TEXT_CHARS = 400;

// ESC-introduced sequences: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC (ESC ] ... BEL or ST),
// and two-character escapes. Also their 8-bit C1 forms (U+009B CSI, U+009D OSC, ...).
const ESCAPE_SEQUENCE =
  /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]?|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[ -/]*[0-~]?/g;

type Ranges = ReadonlyArray<readonly [number, number]>;

/**
 * Removed: C0 and C1 controls and DEL; and every character that is invisible yet changes how a
 * line reads — bidi marks, overrides and isolates (U+061C, U+200E/F, U+202A–202E, U+2066–2069),
 * zero-width and joiner characters (U+200B–200D, U+2060–2064), deprecated format characters
 * (U+206A–206F), the soft hyphen (U+00AD), the combining grapheme joiner (U+034F), Mongolian
 * selectors (U+180B–180F), Khmer inherent vowels (U+17B4/5), variation selectors (U+FE00–FE0F),
 * Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), the byte order mark (U+FEFF) and the
 * interlinear annotation marks (U+FFF0–FFFB). With INVISIBLE_ASTRAL below: Unicode's
 * Default_Ignorable_Code_Point set plus controls.
 */
const INVISIBLE_BMP: Ranges = [
  [0x0000, 0x0008],
  [0x000e, 0x001f],
  [0x007f, 0x0084],
  [0x0086, 0x009f],
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x061c, 0x061c],
  [0x115f, 0x1160],
  [0x17b4, 0x17b5],
  [0x180b, 0x180f],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2060, 0x206f],
  [0x3164, 0x3164],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
  [0xffa0, 0xffa0],
  [0xfff0, 0xfffb],
];
/**
 * Also removed, above U+FFFF: shorthand format controls (U+1BCA0–1BCA3), musical format controls
 * (U+1D173–1D17A), and the whole plane-14 block of tags and variation selectors (U+E0000–E0FFF,
 * which hides ASCII as tag characters U+E0000–E007F). Lone surrogates are removed too (not text).
 */
const INVISIBLE_ASTRAL: Ranges = [
  [0x1bca0, 0x1bca3],
  [0x1d173, 0x1d17a],
  [0xe0000, 0xe0fff],
];
/**
 * Folded to one ordinary space: line breaks and tabs (U+0009–000D, U+0085, U+2028, U+2029) and
 * every other blank that takes room on a terminal row — no-break and wide spaces (U+00A0,
 * U+1680, U+2000–200A, U+202F, U+205F, U+3000) and the blank braille pattern (U+2800). Runs of
 * them could otherwise push a fake line onto the next row.
 */
const BLANKS_BMP: Ranges = [
  [0x0009, 0x000d],
  [0x0085, 0x0085],
  [0x00a0, 0x00a0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x2800, 0x2800],
  [0x3000, 0x3000],
];

const esc = (n: number) => (n <= 0xffff ? `\\u${n.toString(16).padStart(4, "0")}` : `\\u{${n.toString(16)}}`);
const charClass = (r: Ranges) => `[${r.map(([a, b]) => (a === b ? esc(a) : `${esc(a)}-${esc(b)}`)).join("")}]`;
const INVISIBLE = new RegExp(`${charClass([...INVISIBLE_BMP, ...INVISIBLE_ASTRAL])}|\\p{Cs}`, "gu");
const BLANKS = new RegExp(`${charClass(BLANKS_BMP)}+`, "gu");

export interface SanitizeResult {
  text: string;
  /** True when anything was removed or shortened (worth an audit note). */
  changed: boolean;
}

/**
 * Returns `text` as one safe line: escape sequences removed, line breaks, tabs and wide blanks
 * folded to a space, controls and invisible characters removed, runs of spaces collapsed,
 * trimmed, and cut to `max` characters (code points) with an ellipsis.
 */
export function sanitizeText(input: string, max = MAX_TEXT_CHARS): SanitizeResult {
  let text = input
    .replace(ESCAPE_SEQUENCE, "")
    .replace(BLANKS, " ")
    .replace(INVISIBLE, "")
    .replace(/ {2,}/g, " ")
    .trim();
  const chars = Array.from(text);
  if (chars.length > max)
    text =
      chars
        .slice(0, max - 1)
        .join("")
        .trimEnd() + "…";
  return { text, changed: text !== input };
}

/** Sanitised text, without the report. */
export const safeText = (input: string, max = MAX_TEXT_CHARS): string => sanitizeText(input, max).text;

const LINE_BREAKS = /[\u000a-\u000d\u0085\u2028\u2029]/g;

/**
 * For showing text that should be clean already (a bustle.log line) on a terminal: escape
 * sequences, controls, invisible characters and line breaks removed, but tabs and spacing kept
 * as they are (nothing folded or shortened), so a clean line is shown unchanged.
 */
export const displaySafe = (text: string): string =>
  text.replace(ESCAPE_SEQUENCE, "").replace(INVISIBLE, "").replace(LINE_BREAKS, "");

// isSafeText runs on every event a consumer reads. A regular expression with all these ranges
// is slow in V8 on non-Latin text (4–7 µs for 300 characters); a walk over a table of the
// code units takes 2 µs, and as long as the old, smaller expression on short lines.
const UNIT_OK = 0,
  UNIT_BAD = 1,
  UNIT_HIGH = 2;
const UNITS = new Uint8Array(0x10000);
for (const [a, b] of [...INVISIBLE_BMP, ...BLANKS_BMP]) UNITS.fill(UNIT_BAD, a, b + 1);
UNITS.fill(UNIT_HIGH, 0xd800, 0xdc00);
UNITS.fill(UNIT_BAD, 0xdc00, 0xe000); // a low surrogate on its own
const SPACE = 0x20;
const isLow = (u: number) => u >= 0xdc00 && u <= 0xdfff;

/**
 * Printable ASCII words with single spaces between them: safe text, and what most texts are. V8
 * runs this one range in a tight loop (≈ 1 ns a character), a third of the table walk's time.
 */
const PLAIN_ASCII = /^[!-~]+(?: [!-~]+)*$/;

/** True when `text` is already what `sanitizeText` would make of it (checked without rebuilding it). */
export function isSafeText(text: string, max = MAX_TEXT_CHARS): boolean {
  const n = text.length;
  if (n === 0) return true;
  if (n <= max && PLAIN_ASCII.test(text)) return true; // ASCII: one character per code point
  if (text.charCodeAt(0) === SPACE || text.charCodeAt(n - 1) === SPACE) return false;
  let pairs = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const kind = UNITS[c];
    if (kind === UNIT_OK) {
      if (c === SPACE && prev === SPACE) return false;
      prev = c;
      continue;
    }
    if (kind === UNIT_BAD) return false;
    const low = text.charCodeAt(i + 1);
    if (!isLow(low)) return false; // a high surrogate on its own
    const cp = ((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
    for (const [a, b] of INVISIBLE_ASTRAL) if (cp >= a && cp <= b) return false;
    i++;
    pairs++;
    prev = c;
  }
  return n - pairs <= max; // length in code points
}
