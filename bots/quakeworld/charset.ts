/**
 * Quake's character set in both directions. Names and chat arrive as raw bytes in Quake's own
 * charset (bytes ≥ 128 are the gold/red copies, some low bytes are glyphs); they become plain
 * readable ASCII before anything else sees them. Text going into the game is reduced to what a
 * console line can show and nothing the server or a client could run as a command.
 */
import { safeText } from "../../cluster/text.js";

// Glyphs 0–31 as the nearest ASCII look-alike (brackets, digits, arrows, dots, box corners).
const LOW_GLYPHS = [
  "",
  "#",
  "#",
  "#",
  "#",
  ".",
  "#",
  "#",
  "#",
  "#",
  " ",
  "#",
  " ",
  ">",
  ".",
  ".",
  "[",
  "]",
  "0",
  "1",
  "2",
  "3",
  "4",
  "5",
  "6",
  "7",
  "8",
  "9",
  ".",
  "<",
  "-",
  ">",
];

function glyph(byte: number): string {
  const b = byte & 0x7f;
  if (b < 32) return LOW_GLYPHS[b]!;
  if (b === 127) return "<";
  return String.fromCharCode(b);
}

/** Raw Quake-charset bytes → one readable, sanitised line of at most `max` characters. */
export function quakeToText(bytes: Uint8Array, max = 400): string {
  let out = "";
  for (const b of bytes) out += glyph(b);
  return safeText(out, max);
}

/** The same for a string that holds one byte per character (as read with "latin1"). */
export const quakeStringToText = (s: string, max = 400): string => quakeToText(Buffer.from(s, "latin1"), max);

/**
 * Text for a game console: ASCII only (accents folded), no `;` (command separator), no quotes
 * or backslashes (tokenizer and info strings), no `$` (cvar macros), no `//` (comments), no
 * control bytes or line breaks; spaces collapsed; cut to `max` characters with "...".
 */
export function consoleText(input: string, max: number): string {
  let s = input.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  s = s.replace(/[\r\n\t\v\f\u2028\u2029]+/g, " ");
  s = s.replace(/[;"\\$]/g, " ").replace(/[^\x20-\x7e]+/g, "?");
  while (s.includes("//")) s = s.replace(/\/\//g, "/ /");
  s = s.replace(/ {2,}/g, " ").trim();
  if (s.length > max) s = s.slice(0, Math.max(0, max - 3)).trimEnd() + "...";
  return s;
}
