/**
 * What one spool line asks for. A line is a JSON object `{"kind":"update"|"shout","text":"…",
 * "anon":false}` or plain text (an update). Bytes that are not UTF-8 are decoded with
 * replacement characters; the caller sanitises the text.
 */

export type SpoolKind = "update" | "shout";

export interface SpoolRequest {
  kind: SpoolKind;
  /** Raw, unsanitised text as the user wrote it. */
  text: string;
  /** Only meaningful for shouts; updates are never anonymous. */
  anon: boolean;
  /** True when the bytes were not valid UTF-8 (replacement characters were put in). */
  invalidUtf8: boolean;
}

export type ParseResult = { ok: true; request: SpoolRequest } | { ok: false; reason: "malformed"; detail: string };

const strict = new TextDecoder("utf-8", { fatal: true });
const lenient = new TextDecoder("utf-8", { fatal: false });

/** Decodes UTF-8, replacing invalid sequences with U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): { text: string; invalid: boolean } {
  try {
    return { text: strict.decode(bytes), invalid: false };
  } catch {
    return { text: lenient.decode(bytes), invalid: true };
  }
}

/** Parses one line's bytes (without its `\n`). Never throws. */
export function parseSpoolLine(bytes: Uint8Array): ParseResult {
  const { text: line, invalid } = decodeUtf8(bytes);
  if (!/^\s*\{/.test(line))
    return { ok: true, request: { kind: "update", text: line, anon: false, invalidUtf8: invalid } };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, reason: "malformed", detail: "starts with { but is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, reason: "malformed", detail: "not a JSON object" };
  }
  const o = value as Record<string, unknown>;
  const kind = o.kind ?? "update";
  if (kind !== "update" && kind !== "shout")
    return { ok: false, reason: "malformed", detail: 'kind must be "update" or "shout"' };
  if (typeof o.text !== "string") return { ok: false, reason: "malformed", detail: "text must be a string" };
  if (o.anon !== undefined && typeof o.anon !== "boolean")
    return { ok: false, reason: "malformed", detail: "anon must be true or false" };
  return { ok: true, request: { kind, text: o.text, anon: kind === "shout" && o.anon === true, invalidUtf8: invalid } };
}
