/**
 * The file `bustle-control apply FILE` reads: a control.yaml (or a file with only `bots:`). Its
 * `bots:` list is checked with control.yaml's own bot schemas, every problem as `FILE:line key:
 * message`; the other control.yaml keys are this node's business and are neither checked nor
 * stored. Each type's node-specific checks (secrets set, programs on PATH) are left to the
 * control servers, which run them for the bots they may run.
 */
import { parse } from "yaml";
import { parseConfig, readConfigText } from "../../cluster/config/load.js";
import { object, optional, type Schema } from "../../cluster/config/schema.js";
import type { Registry } from "../../bots/registry.js";
import { botsSchema, type BotSpec } from "./bots.js";

const notApplied: Schema<unknown> = { expects: "anything (not applied)", check: (v) => v };
const NODE_KEYS = ["node", "nats", "state", "lease", "supervise", "metrics", "federation"] as const;

export interface BotsFile {
  specs: readonly BotSpec[];
  /** The entries as written, to be stored. */
  raw: unknown[];
}

/** Validates FILE's `bots:` (required). Throws ConfigError with every problem and its line. */
export function loadBotsFile(file: string, registry: Registry): BotsFile {
  const text = readConfigText(file);
  const shape = Object.fromEntries(NODE_KEYS.map((k) => [k, optional(notApplied)]));
  const v = parseConfig(text, file, object({ ...shape, bots: botsSchema(registry) }));
  return { specs: v.bots, raw: (parse(text) as { bots: unknown[] }).bots };
}
