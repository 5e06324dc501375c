/** The `ambient:` section of node.yaml: the watcher's window and rules (first match wins). */
import { array, bool, duration, object, oneOf, optional, string, type Infer } from "../../cluster/config/schema.js";
import { KIND_RE } from "../../cluster/names.js";

export const ambientRuleSchema = object({
  /** A glob relative to the home directory, e.g. "public_html/**". */
  match: optional(string({ min: 1 })),
  /** Which changes the rule is about: any change, or only the creation of a new file. */
  on: optional(oneOf(["change", "create"] as const), "change"),
  kind: string({ pattern: KIND_RE, describe: "a kind like \"publish\" (lower case, digits, dashes)" }),
  text: string({ min: 1, max: 400 }),
  anon: optional(bool(), false),
});

export const DEFAULT_AMBIENT_RULES: Array<Infer<typeof ambientRuleSchema>> = [
  { match: "public_html/**", on: "change", kind: "publish", text: "~{user} just added to their public_html", anon: false },
  { on: "create", kind: "create", text: "~{user} just created a new file", anon: false },
  { match: ".ttbp/**", on: "change", kind: "ttbp", text: "there is a rattling sound in ttbp", anon: true },
  { on: "change", kind: "activity", text: "~{user} is moving around in their home directory", anon: false },
];

export const ambientSectionSchema = object({
  enabled: optional(bool(), true),
  window: optional(duration({ min: 1000 }), 600_000),
  rules: optional(array(ambientRuleSchema, { min: 1 }), () => structuredClone(DEFAULT_AMBIENT_RULES)),
});
export type AmbientConfig = Infer<typeof ambientSectionSchema>;
