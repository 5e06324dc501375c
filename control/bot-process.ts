/**
 * One bot host child process as the supervisor sees it: spawned in its own process group (so
 * the bot's programs can be killed with it), readiness within a time limit, heartbeats watched,
 * commands sent, and a graceful stop that turns into SIGKILL of the whole group when it drags.
 */
import type { ChildProcess } from "node:child_process";
import { ChildProgram } from "../cluster/child.js";
import type { BotState } from "../bots/bot.js";
import { isFromHost, type FromHost, type HostInit, type ToHost } from "./host/protocol.js";
import type { Logger } from "../cluster/logger.js";
import { botHostEnv } from "./bot-env.js";

export interface ProcessEvents {
  onState(state: BotState, detail: string | undefined): void;
  onHeartbeat(m: Extract<FromHost, { t: "heartbeat" }>): void;
  onHalted(halted: boolean): void;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it ended, as the host said (an `error` message) or as we saw it (heartbeats stopped). */
  reason: string | undefined;
}

export class BotProcess {
  private readonly program: ChildProgram;
  private readonly child: ChildProcess;
  private lastBeat = Date.now();
  private watchdog: NodeJS.Timeout | undefined;
  private reason: string | undefined;
  /** Resolves when the host says it is ready; rejects if it exits or times out first. */
  readonly ready: Promise<void>;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;

  constructor(
    hostPath: string,
    init: HostInit,
    readyTimeoutMs: number,
    events: ProcessEvents,
    private readonly log: Logger,
  ) {
    this.program = new ChildProgram({
      name: `bot host ${init.common.id}`,
      argv: [process.execPath, hostPath],
      // Only the base and this bot's declared secrets, never the whole control server's environment.
      env: botHostEnv(init.section),
      ipc: true,
      group: true,
      inheritOutput: true,
    });
    void this.program.start(); // spawns at once; it is ready when it says so
    this.child = this.program.process!;
    this.child.once("error", (err) => {
      // Spawning itself failed: there is no process to say why.
      if (this.child.pid === undefined) this.reason = `cannot start the bot host: ${err.message}`;
    });
    this.exited = this.program.waitExit().then((code) => {
      clearInterval(this.watchdog);
      return { code, signal: this.child.signalCode, reason: this.reason };
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reason = `not ready within ${readyTimeoutMs} ms`;
        this.kill();
        reject(new Error(this.reason));
      }, readyTimeoutMs);
      void this.exited.then((x) => {
        clearTimeout(timer);
        reject(new Error(x.reason ?? "exited before it was ready"));
      });
      this.child.on("message", (m: unknown) => {
        if (!isFromHost(m)) return this.log.warn("ignoring an unknown message from the bot host");
        this.lastBeat = Date.now();
        switch (m.t) {
          case "ready":
            clearTimeout(timer);
            this.watch(init.heartbeatMs);
            resolve();
            break;
          case "heartbeat":
            events.onHeartbeat(m);
            break;
          case "state":
            events.onState(m.state, m.detail);
            break;
          case "halted":
            events.onHalted(m.halted);
            break;
          case "error":
            this.reason = m.message;
            break;
        }
      });
    });
    this.ready.catch(() => {});
    this.send(init);
  }

  get pid(): number | undefined {
    return this.program.pid;
  }

  private watch(heartbeatMs: number): void {
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastBeat > heartbeatMs * 4) {
        this.reason = `no heartbeat for ${Date.now() - this.lastBeat} ms`;
        this.log.error("bot host stopped answering; killing it", { pid: this.pid });
        this.kill();
      }
    }, heartbeatMs);
  }

  send(m: ToHost): void {
    if (this.child.connected) this.child.send(m, undefined, {}, () => {});
  }

  /** SIGKILL to the host's whole process group: the bot and anything it started, now. */
  kill(): void {
    void this.program.kill();
  }

  /** Asks the host to stop cleanly; kills it when it takes longer than `timeoutMs`. Resolves once it is gone. */
  async stop(timeoutMs: number): Promise<ExitInfo> {
    this.send({ t: "stop" });
    const t = setTimeout(() => {
      this.log.warn("bot host did not stop in time; killing it", { pid: this.pid });
      this.kill();
    }, timeoutMs);
    const x = await this.exited;
    clearTimeout(t);
    return x;
  }
}
