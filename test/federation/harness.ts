/**
 * Shared by the federation tests and the cluster benchmark: a real 3-server cluster with 3
 * relays (federation/local.ts), users who append to their spools, and checks that read
 * the logs the way a user would: counting lines and comparing files.
 */
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before } from "node:test";
import { connect, PermissionViolationError, type NatsConnection } from "@nats-io/transport-node";
import { LocalFederation, waitRelaysConnected, type LocalFederationOptions } from "../../federation/local.js";
import { UNTHROTTLED_NODE_YAML } from "../../relay/local-node.js";
import { adminUser, controlUser, inboxPrefix, relayUser } from "../../cluster/permissions.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";

/** Rate limits out of the way and ambient watching off: the tests count spool lines only. */
export { UNTHROTTLED_NODE_YAML as TEST_NODE_YAML } from "../../relay/local-node.js";
export { relayConnections, waitRelaysConnected } from "../../federation/local.js";

/** What a test may set of a federation: proxies, TLS, control nodes and bot grants. */
export type FederationTestOptions = Omit<LocalFederationOptions, "dir" | "nodes" | "nodeYamlExtra">;

export async function startFederation(dir: string, opts: FederationTestOptions = {}): Promise<LocalFederation> {
  const fed = await LocalFederation.create({ dir, nodes: 3, nodeYamlExtra: UNTHROTTLED_NODE_YAML, ...opts });
  try {
    await fed.startServers();
    fed.startRelays();
    await waitRelaysConnected(fed, 30_000);
  } catch (err) {
    await fed.stop();
    throw err;
  }
  return fed;
}

/**
 * One federation for a whole test file: started before its tests, stopped (and its folder
 * removed) after them. Returns a getter for it.
 */
export function federationPerFile(prefix: string, opts: FederationTestOptions = {}): () => LocalFederation {
  const tmp = tempDir(prefix);
  let fed: LocalFederation | undefined;
  before(async () => {
    fed = await startFederation(tmp.path, opts);
  });
  after(async () => {
    await fed?.stop();
    tmp.remove();
  });
  return () => fed!;
}

/**
 * What a user would check after a fault: every log holds every written line exactly once
 * (none missing, doubled or foreign) and the logs are byte-identical.
 */
export function assertLogsComplete(logPaths: string[], writers: SpoolWriter[], total: number): void {
  const texts = logPaths.map(readLog);
  for (const [i, text] of texts.entries()) {
    const a = auditLog(text, writers);
    assert.deepEqual(
      {
        lines: a.lines,
        missing: a.missing.slice(0, 5),
        doubled: a.doubled.slice(0, 5),
        foreign: a.foreign.slice(0, 5),
      },
      { lines: total, missing: [], doubled: [], foreign: [] },
      `log ${logPaths[i]}`,
    );
  }
  for (const [i, text] of texts.entries()) assert.ok(text === texts[0], `${logPaths[i]} differs from ${logPaths[0]}`);
}

/** A connection with a role's credential as init wrote it, and the subjects the server refused it. */
export interface RoleConnection {
  nc: NatsConnection;
  refused: string[];
}

/**
 * Connects to `server`'s client port as node `who`'s relay or control credential, or as the
 * federation's admin (`who` = "admin"). The caller closes `nc`.
 */
export async function connectAs(
  fed: LocalFederation,
  who: string,
  role: "relay" | "control" | "admin",
  server = fed.nodes[0]!.id,
): Promise<RoleConnection> {
  const [user, file, inbox] =
    role === "admin"
      ? [adminUser(), join(fed.adminDir, "admin.password"), inboxPrefix("admin")]
      : [
          role === "relay" ? relayUser(who) : controlUser(who),
          join(fed.relayNode(who).dir, "secrets", `${role}.password`),
          inboxPrefix(who),
        ];
  const pass = readFileSync(file, "utf8").trim();
  const tls = fed.map.tls ? { tls: { caFile: join(fed.dir, "ca", "ca.pem") } } : {};
  const url = fed.node(server).server.url.replace(/^nats:/, fed.map.tls ? "tls:" : "nats:");
  const nc = await connect({ servers: url, user, pass, inboxPrefix: inbox, maxReconnectAttempts: 0, ...tls });
  const refused: string[] = [];
  void (async () => {
    for await (const s of nc.status())
      if (s.type === "error" && s.error instanceof PermissionViolationError) refused.push(s.error.subject);
  })();
  return { nc, refused };
}

/** A user on a node who writes plain-text spool lines `m <node> <user> <n>` (an update each). */
export class SpoolWriter {
  next = 0;
  readonly spool: string;
  constructor(
    readonly node: string,
    homes: string,
    readonly user = "alice",
  ) {
    const home = join(homes, user);
    mkdirSync(home, { recursive: true });
    this.spool = join(home, ".bustle.spool");
  }
  /** Appends `n` lines in one write; returns their numbers' range end. */
  write(n: number): number {
    let text = "";
    for (let i = 0; i < n; i++) text += `m ${this.node} ${this.user} ${this.next++}\n`;
    appendFileSync(this.spool, text);
    return this.next;
  }
}

/**
 * Writes `totals` lines per writer (one number for all, or one each) at `perSecond` each, in
 * small batches every 50 ms. Resolves when all are written, or when `stop` is aborted.
 */
export async function writeSteadily(
  writers: SpoolWriter[],
  perSecond: number,
  totals: number | number[],
  stop?: AbortSignal,
): Promise<void> {
  const tickMs = 50;
  const totalOf = (i: number) => (typeof totals === "number" ? totals : (totals[i] ?? 0));
  const start = Date.now();
  for (;;) {
    const due = Math.floor(((Date.now() - start) / 1000) * perSecond);
    let left = false;
    for (const [i, w] of writers.entries()) {
      const want = Math.min(due, totalOf(i));
      if (want > w.next) w.write(want - w.next);
      if (w.next < totalOf(i)) left = true;
    }
    if (!left || stop?.aborted) return;
    await new Promise((r) => setTimeout(r, tickMs));
  }
}

export function readLog(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

export function countLines(path: string): number {
  const text = readLog(path);
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** Waits until every node's log holds at least `lines` lines. */
export async function waitLogs(fed: LocalFederation, lines: number, ms: number): Promise<void> {
  await waitFor(
    () => fed.nodes.every((n) => countLines(n.log) >= lines),
    ms,
    `every log to reach ${lines} lines (now ${fed.nodes.map((n) => `${n.id}:${countLines(n.log)}`).join(" ")})`,
  );
}

/**
 * What a log is missing and what it holds twice, against the lines the writers wrote.
 * Lines look like `<ts> <node> ~alice m <node> alice <n>`.
 */
export function auditLog(
  text: string,
  writers: SpoolWriter[],
): { lines: number; missing: string[]; doubled: string[]; foreign: string[] } {
  const seen = new Map<string, number>();
  const foreign: string[] = [];
  const lines = text.split("\n").filter(Boolean);
  for (const line of lines) {
    const m = / ~\S+ (m \S+ \S+ \d+)$/.exec(line);
    if (!m) {
      foreign.push(line);
      continue;
    }
    seen.set(m[1]!, (seen.get(m[1]!) ?? 0) + 1);
  }
  const missing: string[] = [];
  for (const w of writers)
    for (let i = 0; i < w.next; i++)
      if (!seen.has(`m ${w.node} ${w.user} ${i}`)) missing.push(`m ${w.node} ${w.user} ${i}`);
  const doubled = [...seen.entries()].filter(([, c]) => c > 1).map(([k]) => k);
  return { lines: lines.length, missing, doubled, foreign };
}

/** The expected total of lines. */
export const written = (writers: SpoolWriter[]): number => writers.reduce((a, w) => a + w.next, 0);
