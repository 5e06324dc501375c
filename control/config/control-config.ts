/**
 * control.yaml: how to reach NATS (a node.yaml's settings, or its own), where bots keep state,
 * lease and supervision timings, and the bots. Every problem is reported at once as
 * `control.yaml:14 bots[2].exec.command: …`; the result is frozen.
 */
import { existsSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { deepFreeze, parseConfig, readConfigText } from "../../cluster/config/load.js";
import {
  array,
  duration,
  int,
  INVALID,
  jsonOf,
  jsonSchemaDocument,
  object,
  oneOf,
  optional,
  refine,
  string,
  type JsonSchema,
  type Schema,
} from "../../cluster/config/schema.js";
import {
  NATS_DEFAULTS,
  natsSectionSchema,
  resolveBusSettings,
  type BusSettings,
  type NatsSection,
} from "../../cluster/bus-config.js";
import { ConfigError } from "../../cluster/errors.js";
import { localBusSettings, localCredentials } from "../../cluster/local-auth.js";
import { NODE_ID_RE, SOURCE_RE } from "../../cluster/names.js";
import { defaultDataDir } from "../../cluster/config/node-location.js";
import { metricsSectionSchema, type MetricsSection } from "../../cluster/config/metrics-section.js";
import { loadNodeConfig, isEmbedded } from "../../relay/config.js";
import type { Registry } from "../../bots/registry.js";
import { botsSchema, type BotSpec } from "./bots.js";

export const SUPERVISE_DEFAULTS = {
  heartbeat: 2_000,
  ready_timeout: 30_000,
  backoff: 1_000,
  max_backoff: 60_000,
  /** A bot that crashes this many times in a row, each within `fast_crash` of starting, is given up. */
  give_up_after: 5,
  fast_crash: 30_000,
  stop_timeout: 10_000,
};
export const LEASE_DEFAULTS = { ttl: 6_000, grace: 500 };

/**
 * How this node treats the federation's stored bots list (`bustle-control apply`; docs/control.md,
 * One bots list for the federation): `follow` it when there is one, or `ignore` it; `pin` names
 * bots of this file whose entry wins here over the stored one; `disable` names bots this node never runs.
 */
export interface FederationSection {
  readonly bots: "follow" | "ignore";
  readonly pin: readonly string[];
  readonly disable: readonly string[];
}
export const FEDERATION_DEFAULTS: FederationSection = { bots: "follow", pin: [], disable: [] };

/**
 * `{config: node.yaml}` takes the servers and TLS from a node.yaml; the credential is given
 * here (`user` + `password_file`/`password_env`), or else found as described at controlCredential.
 */
interface NodeRef {
  config: string;
  user?: string | undefined;
  password_file?: string | undefined;
  password_env?: string | undefined;
}
type NatsRef = NodeRef | NatsSection;

const CREDENTIAL_KEYS = ["config", "user", "password_file", "password_env"];
const nodeRefSchema = refine(
  object({
    config: string({ min: 1 }),
    user: optional(string({ min: 1 })),
    password_file: optional(string({ min: 1 })),
    password_env: optional(string({ pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, describe: "an environment variable name" })),
  }),
  (v, report, path) => {
    if (v.password_file !== undefined && v.password_env !== undefined)
      report([...path, "password_env"], "give password_file or password_env, not both");
    if ((v.password_file !== undefined || v.password_env !== undefined) !== (v.user !== undefined))
      report([...path, "user"], "user and a password (password_file or password_env) go together");
  },
);

const natsRefSchema: Schema<NatsRef> = {
  expects: "a mapping: {config: node.yaml} or servers/user/password_file/password_env/tls",
  json: () => ({ anyOf: [jsonOf(nodeRefSchema), jsonOf(natsSectionSchema)], description: natsRefSchema.expects }),
  check(value, path, issues) {
    if (value && typeof value === "object" && !Array.isArray(value) && "config" in value) {
      const others = Object.keys(value).filter((k) => !CREDENTIAL_KEYS.includes(k));
      if (others.length) {
        issues.report(
          [...path, others[0]!],
          "with config (a node.yaml to take the connection from) give only user and password_file/password_env, not servers or tls",
          true,
        );
        return INVALID;
      }
      return nodeRefSchema.check(value, path, issues);
    }
    return natsSectionSchema.check(value, path, issues);
  },
};

const nodeId = string({ pattern: NODE_ID_RE, describe: "a node id (lower case letters, digits, dashes; at most 32)" });
const botId = string({ pattern: SOURCE_RE, describe: "a bot id" });

/** The whole resolved config a control server runs. */
export interface ControlConfig {
  readonly file: string | undefined;
  /** This control server's node: the `node` of events its bots publish, and what `placement` pins to. */
  readonly node: string;
  readonly bus: BusSettings;
  /** Bots' state folders are `<stateDir>/bots/<id>`. */
  readonly stateDir: string;
  readonly lease: { readonly ttl: number; readonly grace: number };
  readonly supervise: typeof SUPERVISE_DEFAULTS;
  /** This file's bots (the federation's stored list may replace them: control/bots-config/effective.ts). */
  readonly bots: readonly BotSpec[];
  readonly federation: FederationSection;
  readonly metrics?: MetricsSection | undefined;
}

export interface ControlLoadOptions {
  /** Run each bot type's check() (secrets, programs) for the bots this node may run. Default true. */
  checkBots?: boolean;
}

function schemaFor(registry: Registry, baseDir: string, checkFor: { node: string } | undefined) {
  const top = object({
    node: optional(nodeId),
    nats: optional(natsRefSchema, () => ({ ...NATS_DEFAULTS })),
    state: optional(object({ dir: string({ min: 1 }) })),
    lease: optional(
      object({
        ttl: optional(duration({ min: 3_000, max: 300_000 }), LEASE_DEFAULTS.ttl),
        grace: optional(duration({ max: 60_000 }), LEASE_DEFAULTS.grace),
      }),
      () => ({ ...LEASE_DEFAULTS }),
    ),
    supervise: optional(
      object({
        heartbeat: optional(duration({ min: 100, max: 60_000 }), SUPERVISE_DEFAULTS.heartbeat),
        ready_timeout: optional(duration({ min: 1_000 }), SUPERVISE_DEFAULTS.ready_timeout),
        backoff: optional(duration({ min: 10 }), SUPERVISE_DEFAULTS.backoff),
        max_backoff: optional(duration({ min: 10 }), SUPERVISE_DEFAULTS.max_backoff),
        give_up_after: optional(int({ min: 1, max: 1000 }), SUPERVISE_DEFAULTS.give_up_after),
        fast_crash: optional(duration({ min: 100 }), SUPERVISE_DEFAULTS.fast_crash),
        stop_timeout: optional(duration({ min: 500 }), SUPERVISE_DEFAULTS.stop_timeout),
      }),
      () => ({ ...SUPERVISE_DEFAULTS }),
    ),
    bots: optional(botsSchema(registry, { checkFor }), () => []),
    federation: optional(
      object({
        bots: optional(oneOf(["follow", "ignore"] as const), FEDERATION_DEFAULTS.bots),
        pin: optional(array(botId), () => []),
        disable: optional(array(botId), () => []),
      }),
      () => ({ bots: FEDERATION_DEFAULTS.bots, pin: [], disable: [] }),
    ),
    /** Prometheus /metrics and /healthz; off when absent. */
    metrics: optional(metricsSectionSchema),
  });
  return refine(top, (v, report) => {
    v.federation!.pin!.forEach((id, i) => {
      if (!v.bots!.some((b) => b.common.id === id))
        report(
          ["federation", "pin", i],
          `${JSON.stringify(id)} is not a bot of this file: a pinned bot runs here with this file's entry, so it needs one under bots:`,
        );
    });
    if (!("config" in v.nats!) && v.node === undefined)
      report(["node"], "is required (this node's id) unless nats.config names a node.yaml");
    if ("config" in v.nats!) {
      try {
        loadNodeConfig(at(baseDir, v.nats.config));
      } catch (err) {
        report(
          ["nats", "config"],
          err instanceof ConfigError ? `cannot use ${v.nats.config}: ${err.problems.join("; ")}` : String(err),
        );
      }
    } else if (checkFor) {
      try {
        resolveBusSettings(v.nats as NatsSection, join(baseDir, "control.yaml"), []);
      } catch (err) {
        report(
          ["nats", (v.nats as NatsSection).password_env ? "password_env" : "password_file"],
          err instanceof ConfigError ? err.message.replace(/^nats password: /, "") : String(err),
        );
      }
    }
  });
}

const at = (base: string, p: string) => (isAbsolute(p) ? p : resolve(base, p));

/** control.yaml's JSON Schema (`bustle-control schema`), from the schema that validates it, with every bot type of `registry`. */
export function controlConfigJsonSchema(registry: Registry): JsonSchema {
  return jsonSchemaDocument(schemaFor(registry, process.cwd(), undefined), {
    id: "https://bustle.invalid/schema/control.schema.json",
    title: "bustle control.yaml",
  });
}

type Credential = Pick<NatsSection, "user" | "password_file" | "password_env">;

/**
 * The credential a control server uses with `nats: {config: node.yaml}`. A node.yaml names the
 * relay's credential, which may not hold leases or steer bots; the control credential is:
 * - the one given beside `config` in control.yaml (paths relative to control.yaml);
 * - for a node.yaml made by `bustle-cluster init` (password_file …/relay.password), the
 *   control credential init wrote beside it (user `<user>.control`, …/control.password), and
 *   a clear error when there is none (the node was not declared with a control server);
 * - otherwise node.yaml's own (a hand-made set-up whose user has the control permissions).
 */
function controlCredential(
  ref: NodeRef,
  nodeNats: NatsSection,
  nodeFile: string,
  controlDir: string,
  name: string,
): Credential {
  if (ref.user !== undefined) {
    return {
      user: ref.user,
      password_file: ref.password_file && at(controlDir, ref.password_file),
      password_env: ref.password_env,
    };
  }
  const pf = nodeNats.password_file && at(dirname(nodeFile), nodeNats.password_file);
  if (nodeNats.user !== undefined && pf && basename(pf) === "relay.password") {
    const file = join(dirname(pf), "control.password");
    if (!existsSync(file)) {
      throw new ConfigError(
        `${name}: nats.config: ${nodeFile} has only the relay's credential and ${file} does not exist: this node has no control credential (bustle-cluster init --control ${nodeNats.user} gives it one), or give nats.user and nats.password_file`,
      );
    }
    return { user: `${nodeNats.user}.control`, password_file: file };
  }
  return { user: nodeNats.user, password_file: pf, password_env: nodeNats.password_env };
}

/** Validates control.yaml text (`name` is what messages call it) and resolves node, bus and state dir. Throws ConfigError. */
export function parseControlConfig(
  text: string,
  name: string,
  registry: Registry,
  file?: string,
  opts: ControlLoadOptions = {},
): ControlConfig {
  const baseDir = file ? dirname(resolve(file)) : process.cwd();
  // First pass: the shape, and this node's id; second pass: each bot type's own checks for the bots this node may run.
  const first = parseConfig(text, name, schemaFor(registry, baseDir, undefined));
  const nodeFile = "config" in first.nats! ? at(baseDir, first.nats.config) : undefined;
  const nodeCfg = nodeFile ? loadNodeConfig(nodeFile) : undefined;
  const node = first.node ?? nodeCfg!.node.id;
  const v = opts.checkBots === false ? first : parseConfig(text, name, schemaFor(registry, baseDir, { node }));
  let bus: BusSettings;
  if (nodeCfg) {
    const servers = isEmbedded(nodeCfg) ? [`nats://127.0.0.1:${nodeCfg.nats.port}`] : [...nodeCfg.nats.servers!];
    const ref = v.nats as NodeRef;
    if (isEmbedded(nodeCfg) && ref.user === undefined) {
      // The embedded server's control credential, made by bustled in its state dir.
      bus = localBusSettings(localCredentials(nodeCfg.state.dir, nodeCfg.node.id), "control", nodeCfg.nats.port);
    } else {
      bus = resolveBusSettings(
        { ...nodeCfg.nats, ...controlCredential(ref, nodeCfg.nats, nodeFile!, baseDir, name) },
        nodeFile,
        servers,
      );
      // Another of the embedded server's users (its admin, for `apply`): the same pinned CA.
      if (isEmbedded(nodeCfg))
        bus = { ...bus, tls: { caFile: localCredentials(nodeCfg.state.dir, nodeCfg.node.id).ca } };
    }
  } else {
    const n = v.nats as NatsSection;
    bus = resolveBusSettings(n, file, n.servers?.length ? [...n.servers] : [`nats://127.0.0.1:${n.port}`]);
  }
  const stateDir = v.state
    ? at(baseDir, v.state.dir)
    : nodeCfg
      ? join(nodeCfg.state.dir, "control")
      : join(defaultDataDir(file), "control");
  return deepFreeze({
    file,
    node,
    bus,
    stateDir,
    lease: v.lease!,
    supervise: v.supervise!,
    bots: v.bots!,
    federation: v.federation as FederationSection,
    metrics: v.metrics,
  });
}

/** Reads and validates control.yaml. Throws ConfigError naming the file, line and key. */
export function loadControlConfig(file: string, registry: Registry, opts: ControlLoadOptions = {}): ControlConfig {
  return parseControlConfig(readConfigText(file), file, registry, file, opts);
}
