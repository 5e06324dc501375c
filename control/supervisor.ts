/**
 * The supervisor: for every bot this control server may run, a lease campaign; for every lease
 * won, a runner; for every change of control.yaml, only the bots that changed are touched. It
 * carries out the admin commands for the bots it holds and remembers `halt` and `stop` in KV, so
 * that a bot moving to another node keeps them.
 */
import type { KV } from "@nats-io/kv";
import type { Logger } from "../cluster/logger.js";
import { adminKey, leaseKey } from "../cluster/names.js";
import { BotRunner, type BotStatus, type RunnerDeps } from "./bot-runner.js";
import type { Buckets } from "./buckets.js";
import type { BotSpec } from "./config/bots.js";
import type { ControlConfig } from "./config/control-config.js";
import { Lease } from "./lease.js";
import type { ApiHandler, Command, CommandReply, ControlApi, ServerStatus } from "./api.js";

export interface SupervisorDeps {
  buckets: Buckets;
  /** Absolute paths: the compiled bot host, and the module exporting the bot registry. */
  hostPath: string;
  registryModule: string;
  /** This server's unique name in leases (node + pid + random). */
  instance: string;
  log: Logger;
  /** Re-reads control.yaml (throws ConfigError); used by `reload BOT`. */
  reread(): ControlConfig;
}

interface Entry {
  spec: BotSpec;
  lease: Lease | undefined;
  runner: BotRunner | undefined;
}

interface AdminFlags {
  halted: boolean;
  stopped: boolean;
}

export class Supervisor implements ApiHandler {
  private readonly entries = new Map<string, Entry>();
  private api: ControlApi | undefined;

  constructor(
    private config: ControlConfig,
    private readonly deps: SupervisorDeps,
  ) {}

  private get log(): Logger {
    return this.deps.log;
  }

  private eligible(spec: BotSpec): boolean {
    const pin = spec.common.placement?.node;
    return spec.common.enabled && (pin === undefined || pin === this.config.node);
  }

  private runnerDeps(): RunnerDeps {
    const c = this.config;
    return {
      node: c.node,
      bus: c.bus,
      stateRoot: c.stateDir,
      hostPath: this.deps.hostPath,
      registryModule: this.deps.registryModule,
      supervise: c.supervise,
      log: this.log,
    };
  }

  start(api: ControlApi): void {
    this.api = api;
    for (const spec of this.config.bots) this.add(spec);
    this.log.info("supervising", {
      node: this.config.node,
      bots: this.config.bots.filter((b) => this.eligible(b)).map((b) => b.common.id),
    });
  }

  private add(spec: BotSpec): void {
    const entry: Entry = { spec, lease: undefined, runner: undefined };
    this.entries.set(spec.common.id, entry);
    if (this.eligible(spec)) this.campaign(entry);
  }

  private campaign(entry: Entry): void {
    const id = entry.spec.common.id;
    const lease = new Lease(
      this.deps.buckets.leases,
      leaseKey(id),
      { holder: this.deps.instance, node: this.config.node, pid: process.pid },
      { ttl: this.deps.buckets.ttl, grace: this.config.lease.grace },
      {
        acquired: () => void this.onAcquired(entry, lease),
        renewed: (until) => entry.runner?.leaseRenewed(until),
        lost: () => this.onLost(entry),
      },
      this.log.child("lease", { bot: id }),
    );
    entry.lease = lease;
    lease.start();
  }

  private async onAcquired(entry: Entry, lease: Lease): Promise<void> {
    const flags = await this.readFlags(entry.spec.common.id);
    if (entry.lease !== lease || !lease.isHeld) return;
    const runner = new BotRunner(entry.spec, flags.halted, this.runnerDeps(), lease.until);
    entry.runner = runner;
    if (flags.stopped)
      this.log.info("bot holds here but stays stopped (stopped by an admin)", { bot: entry.spec.common.id });
    else runner.start();
    this.api?.serve(entry.spec.common.id);
  }

  private onLost(entry: Entry): void {
    this.api?.unserve(entry.spec.common.id);
    entry.runner?.kill();
    entry.runner = undefined;
  }

  /**
   * NATS refused this node's credential a bot's keys: the federation does not let this node run
   * it. Stops campaigning for it (until it changes in control.yaml or the server restarts).
   */
  async refuse(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (entry?.lease) await this.remove(entry);
  }

  /** Stops a bot here and gives its lease back. */
  private async remove(entry: Entry): Promise<void> {
    const id = entry.spec.common.id;
    this.api?.unserve(id);
    const runner = entry.runner;
    entry.runner = undefined;
    await runner?.stop();
    await entry.lease?.release();
    entry.lease = undefined;
  }

  /** A new control.yaml: bots removed, added or changed are stopped, started or restarted; the rest keep running. */
  async apply(next: ControlConfig): Promise<{ added: string[]; removed: string[]; changed: string[] }> {
    const fixed = (["node", "stateDir"] as const).filter((k) => next[k] !== this.config[k]);
    if (fixed.length || JSON.stringify(next.bus) !== JSON.stringify(this.config.bus)) {
      this.log.warn("node, nats and state settings change only when the control server restarts", { changed: fixed });
    }
    this.config = { ...next, node: this.config.node, bus: this.config.bus, stateDir: this.config.stateDir };
    const out = { added: [] as string[], removed: [] as string[], changed: [] as string[] };
    const wanted = new Map(next.bots.map((b) => [b.common.id, b]));
    const work: Promise<void>[] = [];
    for (const [id, entry] of this.entries) {
      if (!wanted.has(id)) {
        out.removed.push(id);
        this.entries.delete(id);
        work.push(this.remove(entry));
      }
    }
    for (const spec of next.bots) {
      const id = spec.common.id;
      const entry = this.entries.get(id);
      if (!entry) {
        out.added.push(id);
        this.add(spec);
        continue;
      }
      if (entry.spec.fingerprint === spec.fingerprint) continue;
      out.changed.push(id);
      work.push(this.replace(entry, spec));
    }
    await Promise.all(work);
    this.log.info("control.yaml applied", out);
    return out;
  }

  private async replace(entry: Entry, spec: BotSpec): Promise<void> {
    entry.spec = spec;
    if (!this.eligible(spec)) return this.remove(entry);
    if (!entry.lease) return this.campaign(entry);
    if (entry.runner) await entry.runner.restart(spec);
  }

  private async readFlags(id: string): Promise<AdminFlags> {
    try {
      const e = await this.deps.buckets.bots.get(adminKey(id));
      if (e?.operation === "PUT") {
        const v = e.json() as Partial<AdminFlags>;
        return { halted: v.halted === true, stopped: v.stopped === true };
      }
    } catch (err) {
      this.log.warn("could not read the bot's admin flags; assuming none", { bot: id, error: err });
    }
    return { halted: false, stopped: false };
  }

  private async writeFlags(id: string, flags: AdminFlags): Promise<void> {
    await (this.deps.buckets.bots as KV).put(adminKey(id), JSON.stringify(flags));
  }

  async command(id: string, cmd: Command): Promise<CommandReply> {
    const entry = this.entries.get(id);
    const runner = entry?.runner;
    if (!entry || !runner) return { ok: false, message: `bot ${id} is not held by this control server` };
    const st = runner.status();
    switch (cmd) {
      case "status":
        return { ok: true, message: `${id}: ${st.state}`, status: st };
      case "halt":
        await this.writeFlags(id, { halted: true, stopped: st.state === "stopped" });
        await runner.halt();
        return {
          ok: true,
          message: `${id} halted: it stays connected and delivers nothing until resumed`,
          status: runner.status(),
        };
      case "resume":
        await this.writeFlags(id, { halted: false, stopped: false });
        await runner.resume();
        return { ok: true, message: `${id} resumed`, status: runner.status() };
      case "stop":
        await this.writeFlags(id, { halted: st.halted, stopped: true });
        await runner.stop();
        return {
          ok: true,
          message: `${id} stopped (it stays stopped until \`resume\` or \`restart\`)`,
          status: runner.status(),
        };
      case "restart":
        await this.writeFlags(id, { halted: st.halted, stopped: false });
        await runner.restart();
        return { ok: true, message: `${id} restarted`, status: runner.status() };
      case "reload":
        return this.reloadOne(entry);
    }
  }

  /** `reload BOT`: re-read control.yaml and restart this bot with its entry (a bad file changes nothing). */
  private async reloadOne(entry: Entry): Promise<CommandReply> {
    const id = entry.spec.common.id;
    let next: ControlConfig;
    try {
      next = this.deps.reread();
    } catch (err) {
      return { ok: false, message: `control.yaml not reloaded, ${id} keeps its old config: ${(err as Error).message}` };
    }
    const spec = next.bots.find((b) => b.common.id === id);
    if (!spec || !this.eligible(spec)) {
      this.entries.delete(id);
      await this.remove(entry);
      if (spec) this.add(spec);
      return { ok: true, message: `${id} is no longer configured to run here; stopped` };
    }
    entry.spec = spec;
    await entry.runner!.restart(spec);
    return { ok: true, message: `${id} reloaded its config and restarted`, status: entry.runner!.status() };
  }

  statusAll(): ServerStatus {
    const bots: BotStatus[] = [];
    for (const e of this.entries.values()) if (e.runner) bots.push(e.runner.status());
    return { node: this.config.node, instance: this.deps.instance, bots };
  }

  /** Stops every bot (gracefully) and releases every lease. */
  async stop(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => this.remove(e)));
  }
}
