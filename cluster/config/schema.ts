/**
 * A small schema language for YAML configs. Every section's schema is owned by the code that
 * uses it and composed here; validation collects every problem with its key path, and the
 * loader (load.ts) turns paths into file:line.
 */
import { parseDuration } from "../duration.js";

/** What parseDuration accepts, as a JSON Schema pattern. */
const DURATION_PATTERN = "^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*$";

export type Path = ReadonlyArray<string | number>;

export interface Issues {
  report(path: Path, message: string, onKey?: boolean): void;
}

/** A marker for "this value was wrong; the problem has been reported". */
export const INVALID: unique symbol = Symbol("invalid");
export type Invalid = typeof INVALID;

export interface Schema<T> {
  /** Checks `value` (already known to be present) and returns it converted, or INVALID. */
  check(value: unknown, path: Path, issues: Issues): T | Invalid;
  /** Human description used in messages, e.g. "an integer 1–65535". */
  readonly expects: string;
  /**
   * The same rules as JSON Schema (draft 2020-12), for editors and other tools. Every combinator
   * here provides it; a hand-written schema without it is emitted as "anything" (its description).
   */
  readonly json?: () => JsonSchema;
}

/** A JSON Schema (draft 2020-12) object. */
export type JsonSchema = { [keyword: string]: unknown };

/** A schema's JSON Schema; what cannot say one allows anything, described. */
export const jsonOf = (schema: Schema<unknown>): JsonSchema => schema.json?.() ?? { description: schema.expects };

/** A whole config file's JSON Schema document, generated from the schema that validates the file. */
export function jsonSchemaDocument(schema: Schema<unknown>, meta: { id: string; title: string }): JsonSchema {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: meta.id,
    title: meta.title,
    ...jsonOf(schema),
  };
}

/** A JavaScript RegExp as a JSON Schema pattern (ECMA-262 too); flags cannot be said, so then none. */
// (`\/` is only needed in a literal, and is an error in a unicode pattern.)
const patternOf = (re: RegExp | undefined): JsonSchema =>
  re && !re.flags ? { pattern: re.source.replace(/\\\//g, "/") } : {};

export interface OptionalSchema<T, HasDefault extends boolean = boolean> extends Schema<T> {
  readonly optional: true;
  readonly fallback: (() => T) | undefined;
  /** Type-level only: whether a default fills the key in when it is absent. */
  readonly hasDefault?: HasDefault;
}

export type Infer<S> = S extends OptionalSchema<infer T> ? T : S extends Schema<infer T> ? T : never;

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + "..." : s;
};

function leaf<T>(expects: string, test: (v: unknown) => T | undefined, json: JsonSchema): Schema<T> {
  return {
    expects,
    json: () => ({ ...json, description: expects }),
    check(value, path, issues) {
      const out = test(value);
      if (out === undefined) {
        issues.report(path, `must be ${expects}, got ${show(value)}`);
        return INVALID;
      }
      return out;
    },
  };
}

export function string(opts: { pattern?: RegExp; min?: number; max?: number; describe?: string } = {}): Schema<string> {
  const expects = opts.describe ?? (opts.pattern ? `a string matching ${opts.pattern}` : "a string");
  return leaf(
    expects,
    (v) => {
      if (typeof v !== "string") return undefined;
      if (opts.min !== undefined && v.length < opts.min) return undefined;
      if (opts.max !== undefined && v.length > opts.max) return undefined;
      if (opts.pattern && !opts.pattern.test(v)) return undefined;
      return v;
    },
    {
      type: "string",
      ...(opts.min !== undefined ? { minLength: opts.min } : {}),
      ...(opts.max !== undefined ? { maxLength: opts.max } : {}),
      ...patternOf(opts.pattern),
    },
  );
}

export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  return leaf(`one of ${values.join(", ")}`, (v) => (values.includes(v as T) ? (v as T) : undefined), {
    enum: [...values],
  });
}

export function int(opts: { min?: number; max?: number } = {}): Schema<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  const range =
    opts.min !== undefined && opts.max !== undefined ? ` ${min}–${max}` : opts.min !== undefined ? ` ≥ ${min}` : "";
  return leaf(
    `an integer${range}`,
    (v) => (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max ? v : undefined),
    {
      type: "integer",
      ...(opts.min !== undefined ? { minimum: min } : {}),
      ...(opts.max !== undefined ? { maximum: max } : {}),
    },
  );
}

export function number(opts: { min?: number; max?: number } = {}): Schema<number> {
  const { min = -Infinity, max = Infinity } = opts;
  return leaf(
    "a number",
    (v) => (typeof v === "number" && Number.isFinite(v) && v >= min && v <= max ? v : undefined),
    {
      type: "number",
      ...(opts.min !== undefined ? { minimum: min } : {}),
      ...(opts.max !== undefined ? { maximum: max } : {}),
    },
  );
}

export const bool = (): Schema<boolean> =>
  leaf("true or false", (v) => (typeof v === "boolean" ? v : undefined), { type: "boolean" });

/**
 * A duration string ("500ms", "1s", "10m", "1h") → milliseconds. A plain number is taken as
 * milliseconds, which also makes the schema idempotent: a section that was already converted
 * (the bot host re-validates what the control server sent it) passes again unchanged.
 */
export function duration(opts: { min?: number; max?: number } = {}): Schema<number> {
  const { min = 0, max = Infinity } = opts;
  return leaf(
    'a duration like "500ms", "10s", "10m" or "1h"' + (opts.min ? ` of at least ${opts.min}ms` : ""),
    (v) => {
      const ms = typeof v === "string" ? parseDuration(v) : typeof v === "number" && Number.isFinite(v) ? v : undefined;
      return ms !== undefined && ms >= min && ms <= max ? ms : undefined;
    },
    {
      anyOf: [
        { type: "string", pattern: DURATION_PATTERN },
        { type: "number", minimum: min, ...(Number.isFinite(max) ? { maximum: max } : {}) },
      ],
    },
  );
}

export function array<T>(item: Schema<T>, opts: { min?: number; max?: number } = {}): Schema<T[]> {
  return {
    expects: `a list of ${item.expects}`,
    json: () => ({
      type: "array",
      items: jsonOf(item),
      ...(opts.min !== undefined ? { minItems: opts.min } : {}),
      ...(opts.max !== undefined ? { maxItems: opts.max } : {}),
    }),
    check(value, path, issues) {
      if (!Array.isArray(value)) {
        issues.report(path, `must be a list, got ${show(value)}`);
        return INVALID;
      }
      if (opts.min !== undefined && value.length < opts.min) {
        issues.report(path, `must have at least ${opts.min} ${opts.min === 1 ? "entry" : "entries"}`);
        return INVALID;
      }
      if (opts.max !== undefined && value.length > opts.max) {
        issues.report(path, `must have at most ${opts.max} entries`);
        return INVALID;
      }
      let ok = true;
      const out = value.map((v, i) => {
        const r = item.check(v, [...path, i], issues);
        if (r === INVALID) ok = false;
        return r;
      });
      return ok ? (out as T[]) : INVALID;
    },
  };
}

/** A map with free keys (environment variables, headers). */
export function record<T>(value: Schema<T>, key: Schema<string> = string()): Schema<Record<string, T>> {
  return {
    expects: `a mapping of ${value.expects}`,
    json: () => ({ type: "object", additionalProperties: jsonOf(value), propertyNames: jsonOf(key) }),
    check(v, path, issues) {
      if (typeof v !== "object" || v === null || Array.isArray(v)) {
        issues.report(path, `must be a mapping, got ${show(v)}`);
        return INVALID;
      }
      let ok = true;
      const out: Record<string, T> = {};
      for (const [k, item] of Object.entries(v)) {
        if (key.check(k, [...path, k], issues) === INVALID) ok = false;
        const r = value.check(item, [...path, k], issues);
        if (r === INVALID) ok = false;
        else out[k] = r;
      }
      return ok ? out : INVALID;
    },
  };
}

/** Marks a key as optional, with an optional default (a value or a factory). */
export function optional<T>(schema: Schema<T>): OptionalSchema<T, false>;
export function optional<T>(schema: Schema<T>, fallback: NoInfer<T> | (() => NoInfer<T>)): OptionalSchema<T, true>;
export function optional<T>(schema: Schema<T>, fallback?: T | (() => T)): OptionalSchema<T> {
  const make =
    fallback === undefined
      ? undefined
      : typeof fallback === "function"
        ? (fallback as () => T)
        : () => structuredClone(fallback);
  return { ...schema, check: schema.check.bind(schema), optional: true, fallback: make };
}

type Shape = Record<string, Schema<unknown>>;
type RequiredKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends OptionalSchema<unknown, false> ? never : K;
}[keyof S];
export type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & {
  [K in Exclude<keyof S, RequiredKeys<S>>]?: Infer<S[K]>;
};

function isOptional(s: Schema<unknown>): s is OptionalSchema<unknown> {
  return (s as OptionalSchema<unknown>).optional === true;
}

/** Closest known key, for "did you mean" hints on typos. */
function suggest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestDist) [best, bestDist] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/**
 * A mapping with known keys; unknown keys are rejected (with a suggestion), missing required
 * keys reported, optional keys filled from their defaults. `null` counts as an empty mapping so
 * that `nats:` with nothing under it works.
 */
export function object<S extends Shape>(shape: S, opts: { describe?: string } = {}): Schema<ObjectOf<S>> {
  return {
    expects: opts.describe ?? "a mapping",
    json: () => {
      const required = Object.entries(shape)
        .filter(([, s]) => !isOptional(s))
        .map(([k]) => k);
      return {
        // null counts as an empty mapping (`nats:` with nothing under it).
        type: required.length ? "object" : ["object", "null"],
        properties: Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, jsonOf(s)])),
        ...(required.length ? { required } : {}),
        additionalProperties: false,
        ...(opts.describe ? { description: opts.describe } : {}),
      };
    },
    check(value, path, issues) {
      if (value === null) value = {};
      if (typeof value !== "object" || Array.isArray(value)) {
        issues.report(path, `must be a mapping, got ${show(value)}`);
        return INVALID;
      }
      const input = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      let ok = true;
      for (const key of Object.keys(input)) {
        if (!(key in shape)) {
          const hint = suggest(key, Object.keys(shape));
          issues.report(
            [...path, key],
            `unknown key${hint ? ` (did you mean "${hint}"?)` : ""}; known keys: ${Object.keys(shape).join(", ")}`,
            true,
          );
          ok = false;
        }
      }
      for (const [key, schema] of Object.entries(shape)) {
        const v = input[key];
        if (v === undefined || (v === null && isOptional(schema) && schema.expects !== "a mapping")) {
          if (isOptional(schema)) {
            if (schema.fallback) out[key] = schema.fallback();
            continue;
          }
          issues.report([...path, key], `is required (${schema.expects})`);
          ok = false;
          continue;
        }
        const r = schema.check(v, [...path, key], issues);
        if (r === INVALID) ok = false;
        else out[key] = r;
      }
      return ok ? (out as ObjectOf<S>) : INVALID;
    },
  };
}

/** A schema with an extra check after the shape is right (cross-field rules). */
export function refine<T>(
  schema: Schema<T>,
  rule: (value: T, report: (path: Path, message: string) => void, path: Path) => void,
): Schema<T> {
  return {
    expects: schema.expects,
    // Cross-field rules stay the loader's: the shape is what JSON Schema can check.
    ...(schema.json ? { json: schema.json } : {}),
    check(value, path, issues) {
      const r = schema.check(value, path, issues);
      if (r === INVALID) return r;
      let ok = true;
      rule(
        r,
        (p, m) => {
          ok = false;
          issues.report(p, m);
        },
        path,
      );
      return ok ? r : INVALID;
    },
  };
}

/** `bots[2].irc.port` */
export function formatPath(path: Path): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${p}` : p;
  return out || "(top level)";
}
