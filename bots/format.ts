/**
 * Bot templates: `{text} {node} {actor} {kind} {ts}` replaced from an event; unknown fields stay
 * as written. `{text}` is the text as shown everywhere, with a bot's origin (see shownText).
 */
import { shownText, type BustleEvent } from "../cluster/envelope.js";

export const TEMPLATE_FIELDS = ["text", "node", "actor", "kind", "ts", "source", "id"] as const;

export function formatEvent(template: string, e: BustleEvent): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    switch (name) {
      case "text":
        return shownText(e);
      case "node":
        return e.node;
      case "actor":
        return e.actor ?? "someone";
      case "kind":
        return e.kind;
      case "ts":
        return e.ts;
      case "source":
        return e.source;
      case "id":
        return e.id;
      default:
        return whole;
    }
  });
}

/** Problems with a template (unknown fields), for config validation. */
export function templateProblems(template: string): string[] {
  const bad = [...template.matchAll(/\{(\w+)\}/g)]
    .map((m) => m[1]!)
    .filter((f) => !(TEMPLATE_FIELDS as readonly string[]).includes(f));
  return bad.map((f) => `unknown template field {${f}}; known: ${TEMPLATE_FIELDS.map((x) => `{${x}}`).join(" ")}`);
}
