/**
 * DIR/federation.json: how the federation's folder remembers its plan. init writes the plan it
 * ran (servers, members, control nodes, bot grants) and its options (TLS, install and store
 * dirs); `add-member` and `remove-member` read it, change the plan and re-run init over the same
 * folder, which keeps every password, the CA and the certificates. It holds no secret. A folder
 * made with program-only hooks (test proxies, a benchmark's extra user) is marked as such, and
 * the commands refuse to re-run it without them.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../cluster/errors.js";
import {
  initFederation,
  type FederationMap,
  type InitHooks,
  type InitOptions,
  type StoredInitOptions,
} from "./init.js";
import { checkPlan, UsageError, type FederationPlan, type ServerNode } from "./plan.js";

export const PLAN_FILE = "federation.json";

interface StoredPlan {
  /** Written by bustle-cluster init; change it with add-member / remove-member (or init again). */
  comment: string;
  plan: FederationPlan;
  options: StoredInitOptions;
  /** True when init ran with hooks the command line cannot give. */
  hooks: boolean;
}

export function writePlanFile(dir: string, plan: FederationPlan, o: InitOptions): void {
  const { routesFor, clientUrlFor, clusterAdvertise, extraUsers, ...options } = o;
  const stored: StoredPlan = {
    comment: "written by bustle-cluster init; change it with bustle-cluster add-member / remove-member",
    plan,
    options,
    hooks: [routesFor, clientUrlFor, clusterAdvertise, extraUsers].some((h) => h !== undefined),
  };
  writeFileSync(join(dir, PLAN_FILE), JSON.stringify(stored, null, 2) + "\n", { mode: 0o644 });
}

function readPlanFile(dir: string): StoredPlan {
  const file = join(dir, PLAN_FILE);
  if (!existsSync(file))
    throw new ConfigError(
      `${file} does not exist: --dir must be the folder bustle-cluster init wrote (an older init did not write it: re-run the same init once)`,
    );
  try {
    const s = JSON.parse(readFileSync(file, "utf8")) as StoredPlan;
    if (!s?.plan?.servers || !Array.isArray(s.plan.members) || typeof s.options !== "object")
      throw new Error("missing plan or options");
    return s;
  } catch (err) {
    throw new ConfigError(
      `${file} is not a federation plan (${(err as Error).message}): re-run the same bustle-cluster init`,
    );
  }
}

/** The plan init last ran over `dir`. */
export const storedPlan = (dir: string): FederationPlan => readPlanFile(dir).plan;

/**
 * Changes the stored plan and re-runs init with the stored options (and `hooks`, which a program
 * that made the folder with hooks gives again). Returns the new map.
 */
export function changeFederation(
  dir: string,
  change: (plan: FederationPlan) => FederationPlan,
  hooks?: InitHooks,
): FederationMap {
  const stored = readPlanFile(dir);
  if (stored.hooks && !hooks)
    throw new ConfigError(
      `${join(dir, PLAN_FILE)}: this folder was made by a program with its own hooks (test proxies or extra users); change it from that program`,
    );
  const plan = checkPlan(change(stored.plan));
  return initFederation(plan, dir, { ...stored.options, ...hooks });
}

const nodeIds = (plan: FederationPlan) => [...plan.servers.map((s) => s.id), ...plan.members];

/** The plan with a new relay-only member (and a control server there if `control`). */
export function withMember(plan: FederationPlan, id: string, control = false): FederationPlan {
  if (nodeIds(plan).includes(id)) throw new UsageError(`${id} is already a node of this federation`);
  return {
    ...plan,
    members: [...plan.members, id],
    ...(control ? { control: [...(plan.control ?? plan.servers.map((s) => s.id)), id] } : {}),
  };
}

/** The plan with another core server (routes to and from every other; the stream stays R3 on three of them). */
export function withServer(plan: FederationPlan, server: ServerNode): FederationPlan {
  if (nodeIds(plan).includes(server.id)) throw new UsageError(`${server.id} is already a node of this federation`);
  return { ...plan, servers: [...plan.servers, server] };
}

/** The plan without member `id`: no user, no control server, no bot grant left for it. */
export function withoutMember(plan: FederationPlan, id: string): FederationPlan {
  if (plan.servers.some((s) => s.id === id))
    throw new UsageError(`${id} is a core server, not a member: retire a core server as docs/federation.md describes`);
  if (!plan.members.includes(id))
    throw new UsageError(`${id} is not a member of this federation (members: ${plan.members.join(", ") || "none"})`);
  return {
    ...plan,
    members: plan.members.filter((m) => m !== id),
    ...(plan.control ? { control: plan.control.filter((c) => c !== id) } : {}),
    // A bot granted to it alone is granted to nobody now, so it goes (an empty grant would mean "every node").
    bots: (plan.bots ?? [])
      .map((b) => ({ ...b, nodes: b.nodes.filter((n) => n !== id) }))
      .filter((b) => b.nodes.length > 0),
  };
}

/** Deletes a removed member's copies of its passwords from the folder (the servers no longer know them anyway). */
export function forgetSecrets(dir: string, id: string): void {
  rmSync(join(dir, id, "secrets"), { recursive: true, force: true });
  rmSync(join(dir, id, "cluster.json"), { force: true });
}
