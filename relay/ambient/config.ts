/** The `ambient:` section of node.yaml: the watcher's window, tilde-wide cap and rules (first match wins). */
import {
  array,
  bool,
  duration,
  int,
  object,
  oneOf,
  optional,
  refine,
  string,
  type Infer,
} from "../../cluster/config/schema.js";
import { KIND_RE } from "../../cluster/names.js";
import { compileGlob, GlobError } from "./glob.js";

/** A glob relative to the home directory, checked when the config is loaded. */
const globString = refine(string({ min: 1, max: 200 }), (value, report, path) => {
  if (value.startsWith("/"))
    report(path, `must be relative to the home directory (no leading "/"), got ${JSON.stringify(value)}`);
  else if (value.split("/").includes(".."))
    report(path, `must stay inside the home directory (no ".."), got ${JSON.stringify(value)}`);
  else {
    try {
      compileGlob(value);
    } catch (err) {
      if (err instanceof GlobError) report(path, `is not a valid glob: ${err.message}`);
      else throw err;
    }
  }
});

export const ambientRuleSchema = object({
  /** A glob relative to the home directory, e.g. "public_html/**"; absent = any path that is not a dot-path. */
  match: optional(globString),
  /** Which changes the rule is about: any change (creation or modification), or only a new regular file. */
  on: optional(oneOf(["change", "create"] as const), "change"),
  kind: string({ pattern: KIND_RE, describe: 'a kind like "publish" (lower case, digits, dashes)' }),
  /** The sentence; `{user}` is replaced by the home directory's name. */
  text: string({ min: 1, max: 400 }),
  /** Publish with actor null (the audit log still records the user). */
  anon: optional(bool(), false),
});
export type AmbientRule = Infer<typeof ambientRuleSchema>;

export const DEFAULT_AMBIENT_RULES: AmbientRule[] = [
  {
    match: "public_html/**",
    on: "change",
    kind: "publish",
    text: "~{user} just added to their public_html",
    anon: false,
  },
  { on: "create", kind: "create", text: "~{user} just created a new file", anon: false },
  { match: ".ttbp/**", on: "change", kind: "ttbp", text: "there is a rattling sound in ttbp", anon: true },
  { on: "change", kind: "activity", text: "~{user} is moving around in their home directory", anon: false },
];

export const ambientSectionSchema = object({
  enabled: optional(bool(), true),
  /** At most one event per user and kind per window. */
  window: optional(duration({ min: 1000 }), 600_000),
  /** Tilde-wide: at most this many ambient events in any 60 seconds; the rest are dropped (counted in the audit log). */
  max_per_minute: optional(int({ min: 1, max: 100_000 }), 30),
  rules: optional(array(ambientRuleSchema, { min: 1, max: 100 }), () => structuredClone(DEFAULT_AMBIENT_RULES)),
  /** Home directories never watched (service accounts, or a tree too big for the inotify budget). */
  exclude: optional(array(string({ min: 1, max: 64 }), { max: 10_000 }), () => []),
});
export type AmbientConfig = Infer<typeof ambientSectionSchema>;
