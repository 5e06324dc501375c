/**
 * Keeps one held bot running on this control server: starts its host process, restarts it with
 * exponential backoff when it crashes, gives up loudly after repeated fast crashes, and carries
 * out the admin commands. The lease is the supervisor's business; `kill()` is what it calls when
 * the lease is lost.
 */
import { join } from "node:path";
import type { BotState } from "../bots/bot.js";
import type { HostInit } from "./host/protocol.js";
import type { BusSettings } from "../cluster/bus-config.js";
import { backoffDelay } from "../cluster/backoff.js";
import { wakeableSleep } from "../cluster/wait-for.js";
import type { Logger } from "../cluster/logger.js";
import { BotProcess } from "./bot-process.js";
import type { BotSpec } from "./config/bots.js";
import type { SUPERVISE_DEFAULTS } from "./config/control-config.js";

export type RunnerState = "starting" | "running" | "backoff" | "failed" | "stopping" | "stopped";

/** What `bustle-control status` shows for a bot. */
export interface BotStatus {
  id: string;
  type: string;
  state: RunnerState | "unplaced" | "disabled";
  /** The bot's own report (connected, reconnecting, …) and its detail. */
  bot?: BotState | undefined;
  detail?: string | undefined;
  halted: boolean;
  node?: string | undefined;
  pid?: number | undefined;
  /** When the current process became ready (ISO). */
  since?: string | undefined;
  restarts: number;
  lastError?: string | undefined;
  /** Last stream sequence consumed, and events delivered by the current process. */
  seq?: number | undefined;
  delivered?: number | undefined;
  /** The current process reads the stream (events published from now on reach it). */
  feeding?: boolean | undefined;
}

export interface RunnerDeps {
  node: string;
  bus: BusSettings;
  stateRoot: string;
  hostPath: string;
  registryModule: string;
  supervise: typeof SUPERVISE_DEFAULTS;
  log: Logger;
}

export class BotRunner {
  private proc: BotProcess | undefined;
  private state: RunnerState = "stopped";
  private gen = 0;
  private restarts = 0;
  private fastCrashes = 0;
  private lastError: string | undefined;
  private since: number | undefined;
  private botState: BotState | undefined;
  private detail: string | undefined;
  private seq: number | undefined;
  private delivered: number | undefined;
  private feeding = false;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  private leaseUntil = 0;

  constructor(
    public spec: BotSpec,
    private halted: boolean,
    private readonly deps: RunnerDeps,
    leaseUntil: number,
  ) {
    this.leaseUntil = leaseUntil;
    this.log = deps.log.child(spec.common.id, { bot: spec.common.id });
  }

  get id(): string {
    return this.spec.common.id;
  }

  /** Starts the bot (no-op when it runs already) and keeps it running until stopped. */
  start(): void {
    if (this.state !== "stopped" && this.state !== "failed") return;
    this.fastCrashes = 0;
    const gen = ++this.gen;
    this.loopDone = this.loop(gen);
  }

  private async loop(gen: number): Promise<void> {
    while (gen === this.gen) {
      this.state = "starting";
      this.botState = undefined;
      this.detail = undefined;
      this.feeding = false;
      const c = this.spec.common;
      const init: HostInit = {
        t: "init",
        node: this.deps.node,
        common: c,
        section: this.spec.raw,
        bus: this.deps.bus,
        stateDir: join(this.deps.stateRoot, "bots", c.id),
        registryModule: this.deps.registryModule,
        halted: this.halted,
        heartbeatMs: this.deps.supervise.heartbeat,
        leaseUntil: this.leaseUntil,
      };
      const started = Date.now();
      const proc = new BotProcess(
        this.deps.hostPath,
        init,
        this.deps.supervise.ready_timeout,
        {
          onState: (s, d) => {
            this.botState = s;
            this.detail = d;
            this.log.info("bot reports", { state: s, detail: d });
          },
          onHeartbeat: (m) => {
            this.seq = m.seq;
            this.delivered = m.delivered;
            this.feeding = m.feeding;
          },
          onHalted: (h) => {
            this.halted = h;
            const ack = this.onHaltedAck;
            this.onHaltedAck = undefined;
            ack?.(h);
          },
        },
        this.log,
      );
      this.proc = proc;
      try {
        await proc.ready;
        if (gen === this.gen) {
          this.state = "running";
          this.since = Date.now();
          this.log.info("bot running", { pid: proc.pid });
        }
      } catch {
        /* the exit below says why */
      }
      const exit = await proc.exited;
      this.proc = undefined;
      this.since = undefined;
      this.botState = undefined;
      this.detail = undefined;
      this.feeding = false;
      if (gen !== this.gen) return;
      const why = exit.reason ?? (exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`);
      this.lastError = why;
      const { give_up_after, fast_crash, backoff, max_backoff } = this.deps.supervise;
      this.fastCrashes = Date.now() - started < fast_crash ? this.fastCrashes + 1 : 1;
      if (this.fastCrashes >= give_up_after) {
        this.state = "failed";
        this.log.error(
          `bot crashed ${this.fastCrashes} times in a row soon after starting; giving up (run \`bustle-control restart ${this.id}\` after fixing it)`,
          { lastError: why },
        );
        return;
      }
      const delay = backoffDelay(this.fastCrashes - 1, { minMs: backoff, maxMs: max_backoff });
      this.restarts++;
      this.state = "backoff";
      this.log.warn("bot crashed; restarting after a pause", { error: why, delayMs: delay, restarts: this.restarts });
      const pause = wakeableSleep(delay);
      this.wake = pause.wake;
      await pause.done;
      this.wake = undefined;
    }
  }

  /** Resolves once the host confirms (or after 5 s, or at once when no process runs). */
  private confirmHalted(want: boolean): Promise<void> {
    const proc = this.proc;
    if (!proc || this.state !== "running") return Promise.resolve();
    proc.send({ t: want ? "halt" : "resume" });
    return new Promise((resolve) => {
      const t = setTimeout(done, 5_000);
      const prev = this.onHaltedAck;
      this.onHaltedAck = (h) => {
        prev?.(h);
        if (h === want) done();
      };
      function done() {
        clearTimeout(t);
        resolve();
      }
    });
  }

  private onHaltedAck: ((halted: boolean) => void) | undefined;

  async halt(): Promise<void> {
    this.halted = true;
    await this.confirmHalted(true);
  }

  async resume(): Promise<void> {
    this.halted = false;
    await this.confirmHalted(false);
    this.start();
  }

  /** Stops the process cleanly (killing it after the stop timeout) and stays stopped. */
  async stop(): Promise<void> {
    const gen = ++this.gen;
    this.wake?.();
    const proc = this.proc;
    if (proc) {
      this.state = "stopping";
      await proc.stop(this.deps.supervise.stop_timeout);
    }
    await this.loopDone;
    if (gen === this.gen) this.state = "stopped";
  }

  /** Stops and starts again (also after giving up); `spec` replaces the config when given. */
  async restart(spec?: BotSpec): Promise<void> {
    await this.stop();
    if (spec) this.spec = spec;
    this.start();
  }

  /** The lease was renewed: the host may live until `until`. */
  leaseRenewed(until: number): void {
    this.leaseUntil = until;
    this.proc?.send({ t: "lease", until });
  }

  /** The lease is gone: SIGKILL now, no goodbyes. */
  kill(): void {
    ++this.gen;
    this.wake?.();
    this.proc?.kill();
    this.state = "stopped";
  }

  /** Resolves once no process of this bot is left (after kill()). */
  async gone(): Promise<void> {
    await this.proc?.exited;
  }

  status(): BotStatus {
    return {
      id: this.id,
      type: this.spec.common.type,
      state: this.state,
      bot: this.botState,
      detail: this.detail,
      halted: this.halted,
      node: this.deps.node,
      pid: this.proc?.pid,
      since: this.since ? new Date(this.since).toISOString() : undefined,
      restarts: this.restarts,
      lastError: this.lastError,
      seq: this.seq,
      delivered: this.delivered,
      feeding: this.proc ? this.feeding : false,
    };
  }
}
