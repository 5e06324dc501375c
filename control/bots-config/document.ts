/**
 * The federation's bots config as stored in KV (`bustle-config`, key `bots`): the `bots:` entries
 * as the admin wrote them (defaults are each control server's own), who applied them and when.
 *
 *   {"v":1,"bots":[{"id":"irc-town","type":"irc","irc":{…}}, …],
 *    "applied":{"user":"admin","unix":"alice","host":"hub","at":"2026-12-01T14:00:00.000Z","file":"/home/alice/bots.yaml"},
 *    "rollback_of":7}                                   (only on a rollback)
 *
 * `applied` is what the applying CLI says about itself: NATS authenticated only `user` (only the
 * admin may write the key); `unix`, `host` and `file` are the admin's own account of it.
 * Everything read back is hostile input until checked here: the entries go through the same bot
 * schemas as control.yaml, and every string meant for a terminal is sanitised.
 */
import { hostname, userInfo } from "node:os";
import { deepFreeze } from "../../cluster/config/load.js";
import { formatPath, INVALID } from "../../cluster/config/schema.js";
import { ConfigError } from "../../cluster/errors.js";
import { sanitizeText } from "../../cluster/text.js";
import type { Registry } from "../../bots/registry.js";
import { botsSchema, type BotSpec } from "../config/bots.js";
import { isObj } from "../wire.js";

export const DOCUMENT_VERSION = 1;

export interface AppliedBy {
  /** The NATS user that wrote it (the only part NATS vouches for). */
  user: string;
  /** The local account and machine the CLI ran on, and the file it read. */
  unix: string;
  host: string;
  at: string;
  file: string;
}

export interface BotsDocument {
  v: number;
  /** The `bots:` entries as written (plain YAML data). */
  bots: unknown[];
  applied: AppliedBy;
  rollback_of?: number;
}

/** One revision of the key: the KV revision, and its document (undefined when it is unreadable). */
export interface Revision {
  revision: number;
  /** When the server stored it. */
  created: Date;
  doc: BotsDocument | undefined;
  /** The key was deleted or purged at this revision (control servers fall back to their files). */
  deleted?: boolean;
}

/** What the applying CLI says about itself. */
export function appliedBy(user: string | undefined, file: string): AppliedBy {
  let unix = "?";
  try {
    unix = userInfo().username;
  } catch {
    unix = process.env.USER ?? "?";
  }
  return { user: user ?? "?", unix, host: hostname(), at: new Date().toISOString(), file };
}

const clean = (v: unknown, max = 200): string => (typeof v === "string" ? sanitizeText(v, max).text : "?");

/**
 * A stored value, shape-checked, with every string of `applied` sanitised (the bot entries are
 * checked by parseStoredBots). Undefined when it is not a document of a version this code reads.
 */
export function readDocument(data: Uint8Array): BotsDocument | undefined {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
  if (!isObj(v) || v.v !== DOCUMENT_VERSION || !Array.isArray(v.bots)) return undefined;
  const a = isObj(v.applied) ? v.applied : {};
  const doc: BotsDocument = {
    v: DOCUMENT_VERSION,
    bots: v.bots,
    applied: {
      user: clean(a.user, 64),
      unix: clean(a.unix, 64),
      host: clean(a.host, 128),
      at: clean(a.at, 40),
      file: clean(a.file, 300),
    },
  };
  if (typeof v.rollback_of === "number" && Number.isInteger(v.rollback_of)) doc.rollback_of = v.rollback_of;
  return doc;
}

/** `id (type)` of each entry, sanitised, for history and apply's answer. */
export function botLabels(bots: readonly unknown[]): string[] {
  return bots.map((b) => (isObj(b) ? `${clean(b.id, 64)} (${clean(b.type, 32)})` : "?"));
}

export function summary(bots: readonly unknown[]): string {
  const labels = botLabels(bots);
  return labels.length ? `${labels.length} bot(s): ${labels.join(", ")}` : "no bots";
}

/** Which entries differ between two lists, by id (an entry counts as changed when any key differs). */
export function diffBots(
  before: readonly unknown[],
  after: readonly unknown[],
): { added: string[]; removed: string[]; changed: string[] } {
  const byId = (list: readonly unknown[]) =>
    new Map(list.filter(isObj).map((b) => [clean(b.id, 64), JSON.stringify(b)]));
  const a = byId(before);
  const b = byId(after);
  return {
    added: [...b.keys()].filter((id) => !a.has(id)),
    removed: [...a.keys()].filter((id) => !b.has(id)),
    changed: [...b.keys()].filter((id) => a.has(id) && a.get(id) !== b.get(id)),
  };
}

/**
 * The stored entries as BotSpecs, checked with the bot schemas of this server's registry (a
 * newer admin CLI may know keys an older control server does not). Throws ConfigError naming
 * the revision and each bad key (sanitised: the text is logged).
 */
export function parseStoredBots(bots: unknown[], registry: Registry, name: string): BotSpec[] {
  const problems: string[] = [];
  const specs = botsSchema(registry).check(bots, ["bots"], {
    report: (path, message) => problems.push(`${name} ${formatPath(path)}: ${sanitizeText(message, 300).text}`),
  });
  if (specs === INVALID || problems.length)
    throw new ConfigError(problems.join("\n") || `${name}: not a bots list`, problems);
  return deepFreeze(specs);
}
