/**
 * Rendering a spool request into the contract's sentence:
 *   update          → `~alice <text>`
 *   shout           → `~alice shouts, 'HI WORLD'`
 *   anonymous shout → `someone shouts, 'HI WORLD'` (actor null; the audit keeps the real user)
 * The user's text is sanitised first and cut so that the whole sentence fits in 400 characters
 * with its closing quote intact.
 */
import { isSafeText, MAX_TEXT_CHARS, sanitizeText } from "../../cluster/text.js";
import type { SpoolRequest } from "./parse-line.js";

export interface Rendered {
  kind: "update" | "shout";
  actor: string | null;
  text: string;
  /** True when sanitising removed or shortened anything beyond surrounding whitespace. */
  sanitised: boolean;
}

export type RenderResult = { ok: true; rendered: Rendered } | { ok: false; reason: "empty" };

/** Renders `req` for `user` (a validated user name). Never throws. */
export function renderSpoolRequest(user: string, req: SpoolRequest): RenderResult {
  // Most lines are clean already: the quick check spares sanitizeText's passes.
  const clean = isSafeText(req.text, Number.MAX_SAFE_INTEGER)
    ? { text: req.text }
    : sanitizeText(req.text, Number.MAX_SAFE_INTEGER);
  if (clean.text.length === 0) return { ok: false, reason: "empty" };
  let sanitised = clean.text !== req.text.trim() || req.invalidUtf8;
  const frame = sentence(user, req);
  const budget = MAX_TEXT_CHARS - Array.from(frame.before + frame.after).length;
  const body = req.kind === "shout" ? clean.text.toUpperCase() : clean.text;
  // Already clean; only a text over the budget needs another pass (to cut it).
  const cut = body.length <= budget ? { text: body } : sanitizeText(body, budget);
  if (cut.text !== body) sanitised = true;
  return {
    ok: true,
    rendered: {
      kind: req.kind,
      actor: req.kind === "shout" && req.anon ? null : user,
      text: frame.before + cut.text + frame.after,
      sanitised,
    },
  };
}

function sentence(user: string, req: SpoolRequest): { before: string; after: string } {
  if (req.kind === "update") return { before: `~${user} `, after: "" };
  return { before: req.anon ? "someone shouts, '" : `~${user} shouts, '`, after: "'" };
}
