/**
 * node.yaml: the relay's configuration. Defaults live next to the schema; flags override keys;
 * the result is frozen. `loadNodeConfig(undefined)` is the embedded default.
 */
import { loadConfigFile, deepFreeze, parseConfig } from "../cluster/config/load.js";
import {
  int,
  jsonSchemaDocument,
  number,
  object,
  optional,
  string,
  duration,
  type Infer,
  type JsonSchema,
} from "../cluster/config/schema.js";
import { NATS_DEFAULTS, natsSectionSchema } from "../cluster/bus-config.js";
import { NODE_ID_RE } from "../cluster/names.js";
import { defaultDataDir, defaultNodeId, nodeDataPaths } from "../cluster/config/node-location.js";
import { ambientSectionSchema } from "./ambient/config.js";
import { metricsSectionSchema } from "../cluster/config/metrics-section.js";
import { DEFAULT_MAX_PENDING } from "./outbox.js";

export { defaultDataDir, defaultNodeId, nodeDataPaths };

/** Each section's defaults, in one place: the schema below fills them in, the docs quote them. */
export const HOMES_DEFAULTS = { root: "/home" };
export const SPOOL_RATE_DEFAULTS = { burst: 3, per_minute: 6 };
export const SPOOL_DEFAULTS = {
  rate: SPOOL_RATE_DEFAULTS,
  max_line_bytes: 8192,
  /** Milliseconds between safety-net rescans. */
  rescan: 5000,
};

/** About 15 MB of heap for typical spool lines (relay/outbox.ts DEFAULT_MAX_PENDING says how it was sized). */
export const OUTBOX_DEFAULTS = { max_pending: DEFAULT_MAX_PENDING };

export const nodeConfigSchema = object({
  node: optional(
    object({
      id: string({ pattern: NODE_ID_RE, describe: "a node id (lower case letters, digits, dashes; at most 32)" }),
      name: optional(string({ min: 1, max: 100 })),
    }),
    () => ({ id: defaultNodeId() }),
  ),
  nats: optional(natsSectionSchema, () => ({ ...NATS_DEFAULTS })),
  homes: optional(object({ root: optional(string({ min: 1 }), HOMES_DEFAULTS.root) }), () => ({ ...HOMES_DEFAULTS })),
  // Unset paths are filled in by loadNodeConfig: they depend on who reads which file.
  log: optional(object({ path: optional(string({ min: 1 })), audit: optional(string({ min: 1 })) }), () => ({})),
  state: optional(object({ dir: optional(string({ min: 1 })) }), () => ({})),
  spool: optional(
    object({
      rate: optional(
        object({
          burst: optional(int({ min: 1, max: 1_000_000 }), SPOOL_RATE_DEFAULTS.burst),
          per_minute: optional(number({ min: 0.01, max: 10_000_000 }), SPOOL_RATE_DEFAULTS.per_minute),
        }),
        () => ({ ...SPOOL_RATE_DEFAULTS }),
      ),
      /** Lines longer than this many bytes are refused whole (audit-logged). */
      max_line_bytes: optional(int({ min: 64, max: 1_048_576 }), SPOOL_DEFAULTS.max_line_bytes),
      /** Safety-net rescan of every spool, besides inotify. */
      rescan: optional(duration({ min: 100 }), SPOOL_DEFAULTS.rescan),
    }),
    () => structuredClone(SPOOL_DEFAULTS),
  ),
  ambient: optional(ambientSectionSchema, () => ambientSectionSchema.check({}, [], { report() {} }) as AmbientDefaults),
  stream: optional(
    object({
      replicas: optional(int({ min: 1, max: 5 })),
      max_age: optional(duration({ min: 60_000 })),
      max_bytes: optional(int({ min: 1_048_576 })),
      duplicate_window: optional(duration({ min: 1000 })),
    }),
    () => ({}),
  ),
  /** The outbox's bound (relay/outbox.ts): past this many events waiting for NATS, spools are not read until it drains. */
  outbox: optional(
    object({
      max_pending: optional(int({ min: 1, max: 10_000_000 }), OUTBOX_DEFAULTS.max_pending),
    }),
    () => ({ ...OUTBOX_DEFAULTS }),
  ),
  /** Prometheus /metrics and /healthz; off when absent. */
  metrics: optional(metricsSectionSchema),
});
type AmbientDefaults = Infer<typeof ambientSectionSchema>;
type ParsedNodeConfig = Infer<typeof nodeConfigSchema>;
export type NodeConfig = Omit<ParsedNodeConfig, "log" | "state"> & {
  log: { path: string; audit: string };
  state: { dir: string };
};

/** Flags that override config keys (bustled's command line). */
export interface NodeOverrides {
  homes?: string | undefined;
  log?: string | undefined;
  state?: string | undefined;
  nats?: string[] | undefined;
}

/**
 * Loads node.yaml (or the embedded default when `file` is undefined) and applies flags. Paths the
 * file leaves unset are under `dataDir` (default: cluster/config/node-location's defaultDataDir).
 */
export function loadNodeConfig(
  file: string | undefined,
  overrides: NodeOverrides = {},
  dataDir = defaultDataDir(file),
): NodeConfig {
  const base = file ? loadConfigFile(file, nodeConfigSchema) : parseConfig("{}", "(defaults)", nodeConfigSchema);
  const parsed = structuredClone(base) as ParsedNodeConfig;
  const paths = nodeDataPaths(dataDir);
  const c: NodeConfig = {
    ...parsed,
    log: { path: parsed.log?.path ?? paths.log, audit: parsed.log?.audit ?? paths.audit },
    state: { dir: parsed.state?.dir ?? paths.state },
  };
  if (overrides.homes) c.homes.root = overrides.homes;
  if (overrides.log) c.log.path = overrides.log;
  if (overrides.state) c.state.dir = overrides.state;
  if (overrides.nats?.length) c.nats.servers = overrides.nats;
  return deepFreeze(c);
}

/** node.yaml's JSON Schema (`bustled schema`), generated from the schema above. */
export const nodeConfigJsonSchema = (): JsonSchema =>
  jsonSchemaDocument(nodeConfigSchema, {
    id: "https://bustle.invalid/schema/node.schema.json",
    title: "bustle node.yaml",
  });

/** True when bustled must run its own nats-server. */
export const isEmbedded = (c: NodeConfig): boolean => !c.nats.servers?.length;
