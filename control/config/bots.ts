/**
 * The `bots:` list of control.yaml: the keys every bot has, plus its type's own section (named
 * after the type) validated with the schema the registry gives for that type.
 */
import {
  array,
  bool,
  INVALID,
  jsonOf,
  object,
  optional,
  string,
  type Issues,
  type Path,
  type Schema,
} from "../../cluster/config/schema.js";
import {
  ALL_EVENTS,
  EVENT_SUBJECT_PREFIX,
  isLocalSource,
  KIND_RE,
  LOCAL_SOURCES,
  NODE_ID_RE,
  SOURCE_RE,
} from "../../cluster/names.js";
import type { BotType, CommonBotConfig } from "../../bots/bot.js";
import { templateProblems } from "../../bots/format.js";
import type { Registry } from "../../bots/registry.js";

/** One configured bot: its common keys, its own section, and a fingerprint that changes when either does. */
export interface BotSpec {
  readonly common: CommonBotConfig;
  /** The type's section (e.g. the `exec:` mapping), validated. */
  readonly section: unknown;
  /** The section as written in the YAML; the bot host validates it again with the same schema. */
  readonly raw: unknown;
  /** Stable text of the whole entry; a reload restarts a bot only when this changes. */
  readonly fingerprint: string;
}

const TOKEN = /^[A-Za-z0-9_-]+$/;
const subjectFilter = string({
  describe: `a subject filter under ${EVENT_SUBJECT_PREFIX} like "bustle.ev.town.>" or "bustle.ev.*.spool.*"`,
});

function filterProblem(f: string): string | undefined {
  const t = f.split(".");
  if (t[0] !== "bustle" || (t[1] !== "ev" && t[1] !== "*" && t[1] !== ">"))
    return `must be under ${EVENT_SUBJECT_PREFIX} (e.g. "${ALL_EVENTS}"), got ${JSON.stringify(f)}`;
  for (let i = 0; i < t.length; i++) {
    const tok = t[i]!;
    if (tok === ">" && i !== t.length - 1) return `">" may only be the last token, got ${JSON.stringify(f)}`;
    if (tok !== "*" && tok !== ">" && !TOKEN.test(tok))
      return `has an empty or invalid token, got ${JSON.stringify(f)}`;
  }
  if (t.length > 5) return `has more tokens than bustle.ev.<node>.<source>.<kind>, got ${JSON.stringify(f)}`;
  return undefined;
}

const commonShape = {
  id: string({
    pattern: SOURCE_RE,
    describe: "a bot id (lower case letters, digits and dashes, at most 64, starting with a letter or digit)",
  }),
  type: string({ min: 1 }),
  enabled: optional(bool(), true),
  placement: optional(object({ node: string({ pattern: NODE_ID_RE, describe: "a node id" }) })),
  subscribe: optional(array(subjectFilter, { min: 1 }), () => [ALL_EVENTS]),
  kinds: optional(array(string({ pattern: KIND_RE, describe: 'a kind like "shout"' }), { min: 1 })),
  format: optional(string({ min: 1, max: 1000 }), "{text}"),
};

const anything: Schema<unknown> = { expects: "anything", check: (v) => v };

/** A type's section is optional when an empty mapping is a valid config for it (all keys have defaults). */
function sectionSchema(bt: BotType<unknown>): Schema<unknown> {
  let fine = true;
  bt.schema.check({}, [], { report: () => void (fine = false) });
  return fine ? optional(bt.schema, () => bt.schema.check({}, [], { report() {} })) : bt.schema;
}

/**
 * `password_env: not set` from a type's check() → reported at that key inside the section when it
 * names one (a leading `<type>.` is tolerated).
 */
function reportCheck(issues: Issues, at: Path, message: string): void {
  const m = /^([A-Za-z_][\w]*(?:\[\d+\]|\.[A-Za-z_][\w]*)*): (.+)$/s.exec(message);
  if (!m) return issues.report(at, message);
  const extra: Array<string | number> = [];
  for (const part of m[1]!.matchAll(/([A-Za-z_]\w*)|\[(\d+)\]/g)) extra.push(part[1] ?? Number(part[2]));
  if (extra.length > 1 && extra[0] === at[at.length - 1]) extra.shift();
  issues.report([...at, ...extra], m[2]!);
}

export interface BotsSchemaOptions {
  /** Run each type's check() (secrets, files) for the bots this node may run. */
  checkFor?: { node: string } | undefined;
}

/** The schema of one `bots[i]` entry. */
export function botSchema(registry: Registry, opts: BotsSchemaOptions = {}): Schema<BotSpec> {
  const known = Object.keys(registry).sort();
  return {
    expects: "a bot (a mapping with id, type and the type's own section)",
    // The common keys, then per type (if type is X) its own section X; nothing else.
    json: () => {
      const common = jsonOf(object(commonShape));
      return {
        type: "object",
        properties: { ...(common.properties as object), type: { enum: known, description: "the bot type" } },
        required: ["id", "type"],
        allOf: known.map((t) => ({
          if: { properties: { type: { const: t } } },
          then: { properties: { [t]: jsonOf(registry[t]!.schema) } },
        })),
        unevaluatedProperties: false,
        description: "a bot (a mapping with id, type and the type's own section)",
      };
    },
    check(value, path, issues) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        issues.report(path, `must be a mapping with id and type, got ${JSON.stringify(value)}`);
        return INVALID;
      }
      const type = (value as Record<string, unknown>).type;
      const bt = typeof type === "string" ? registry[type] : undefined;
      const shape: Record<string, Schema<unknown>> = { ...commonShape };
      if (bt) shape[bt.type] = sectionSchema(bt);
      else if (typeof type === "string") {
        issues.report([...path, "type"], `unknown bot type ${JSON.stringify(type)}; known types: ${known.join(", ")}`);
        shape[type] = optional(anything);
      }
      const r = object(shape).check(value, path, issues) as
        | (Record<string, unknown> & CommonBotConfig)
        | typeof INVALID;
      if (r === INVALID) return INVALID;
      let ok = !!bt;
      if (isLocalSource(r.id)) {
        // A bot's events would then read like the node's own users' lines (see docs/security.md, Origin).
        issues.report(
          [...path, "id"],
          `${JSON.stringify(r.id)} is reserved for the node's own events (${LOCAL_SOURCES.join(", ")}); choose another bot id`,
        );
        ok = false;
      }
      for (const p of templateProblems(r.format)) {
        issues.report([...path, "format"], p);
        ok = false;
      }
      for (const [i, f] of r.subscribe.entries()) {
        const p = filterProblem(f);
        if (p) {
          issues.report([...path, "subscribe", i], p);
          ok = false;
        }
      }
      const here = opts.checkFor;
      if (ok && bt && here && r.enabled && (!r.placement || r.placement.node === here.node)) {
        for (const p of bt.check?.(r[bt.type], r.id) ?? []) {
          reportCheck(issues, [...path, bt.type], p);
          ok = false;
        }
      }
      if (!ok || !bt) return INVALID;
      const common: CommonBotConfig = {
        id: r.id,
        type: r.type,
        enabled: r.enabled,
        placement: r.placement,
        subscribe: r.subscribe,
        kinds: r.kinds,
        format: r.format,
      };
      const raw = structuredClone((value as Record<string, unknown>)[bt.type] ?? {});
      return { common, section: r[bt.type], raw, fingerprint: JSON.stringify(r) };
    },
  };
}

/** The `bots:` list: every entry valid, ids unique across the file. */
export function botsSchema(registry: Registry, opts: BotsSchemaOptions = {}): Schema<BotSpec[]> {
  const list = array(botSchema(registry, opts));
  return {
    expects: list.expects,
    ...(list.json ? { json: list.json } : {}),
    check(value, path, issues) {
      // Duplicate ids are found on the raw entries so they are reported even when an entry has other problems.
      if (Array.isArray(value)) {
        const seen = new Map<string, number>();
        value.forEach((b, i) => {
          const id = (b as { id?: unknown } | null)?.id;
          if (typeof id !== "string") return;
          const first = seen.get(id);
          if (first === undefined) seen.set(id, i);
          else
            issues.report(
              [...path, i, "id"],
              `duplicate bot id ${JSON.stringify(id)} (already used by ${path.join(".")}[${first}]); ids must be unique across the federation`,
            );
        });
        const r = list.check(value, path, issues);
        return seen.size === value.filter((b) => typeof (b as { id?: unknown } | null)?.id === "string").length
          ? r
          : INVALID;
      }
      return list.check(value, path, issues);
    },
  };
}
