/**
 * The `exec` bot: any program in any language. Events go to its stdin as JSON lines (the
 * envelope with its text as shown, plus `seq` and `formatted`); each JSON line it prints (`{"kind":…,"text":…}`) is
 * published as an event from the bot; its stderr goes to the logs. Whatever it prints is hostile
 * input: malformed, oversized or over-rate lines are dropped with a logged reason, and a program
 * that stops reading its stdin loses events instead of growing our memory.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { shownEvent } from "../../cluster/envelope.js";
import { isKind } from "../../cluster/names.js";
import { defineBotType, type Bot, type BotContext } from "../bot.js";
import { checkExec, EXEC_DEFAULTS, execSchema, type ExecConfig } from "./config.js";
import { LineSplitter, QuietLog, TokenBucket } from "./limits.js";

/** Publishes in flight at once; beyond this a flooding program's lines are dropped. */
const MAX_IN_FLIGHT = 64;
const STOP_GRACE_MS = 3_000;

class ExecBot implements Bot {
  private child: ChildProcess | undefined;
  private stopping = false;
  private inFlight = 0;
  private readonly quiet: QuietLog;
  private readonly bucket: TokenBucket;
  private settle!: (err: Error | undefined) => void;
  private readonly done = new Promise<Error | undefined>((r) => (this.settle = r));

  constructor(private readonly ctx: BotContext<ExecConfig>) {
    this.quiet = new QuietLog(ctx.log);
    this.bucket = new TokenBucket(ctx.config.rate.burst, ctx.config.rate.per_minute);
  }

  start(): Promise<void> {
    const { config, log } = this.ctx;
    // Nothing else from the host's environment: the program sees only what its section gives it.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      LANG: process.env.LANG ?? "C.UTF-8",
      ...(process.env.TZ ? { TZ: process.env.TZ } : {}),
      HOME: this.ctx.stateDir,
      BUSTLE_BOT_ID: this.ctx.id,
      BUSTLE_NODE: this.ctx.node,
      BUSTLE_STATE_DIR: this.ctx.stateDir,
      ...config.env,
    };
    for (const [name, ref] of Object.entries(config.secrets)) {
      const v =
        ref.env !== undefined
          ? process.env[ref.env]
          : ref.file !== undefined
            ? readFileSync(ref.file, "utf8").replace(/\r?\n$/, "")
            : undefined;
      if (!v) return Promise.reject(new Error(`exec.secrets.${name}: secret is missing`));
      env[name] = v;
    }
    const [prog, ...args] = config.command as [string, ...string[]];
    return new Promise((resolve, reject) => {
      const child = spawn(prog, args, { cwd: this.ctx.stateDir, env, stdio: ["pipe", "pipe", "pipe"] });
      this.child = child;
      child.once("error", (err) => {
        // Only a failure to spawn lands here before "spawn"; later errors are followed by "exit".
        if (child.pid === undefined) reject(new Error(`cannot run ${prog}: ${err.message}`));
        else log.warn("program error", { error: err });
      });
      child.once("spawn", () => {
        log.info("program started", { pid: child.pid, command: config.command });
        resolve();
      });
      // A program that exits without reading all of its input gives EPIPE; the exit says why.
      child.stdin!.on("error", () => {});
      const out = new LineSplitter(
        config.max_line_bytes,
        (l) => this.onLine(l),
        (n) => this.quiet.warn("program output rejected: line too long", { bytes: n, max: config.max_line_bytes }),
      );
      child.stdout!.on("data", (b: Buffer) => out.push(b));
      child.stdout!.on("end", () => out.end());
      const errLines = new LineSplitter(
        4096,
        (l) => l.trim() && this.quiet.warn("program stderr", { line: l.slice(0, 1000) }),
        () => {},
      );
      child.stderr!.on("data", (b: Buffer) => errLines.push(b));
      child.once("exit", (code, signal) => {
        this.quiet.flush();
        if (this.stopping) return this.settle(undefined);
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        log.error(`program ${how}`);
        this.settle(new Error(`program ${prog} ${how}`));
      });
    });
  }

  private onLine(raw: string): void {
    const line = raw.trim();
    if (!line) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return this.quiet.warn("program output rejected: not JSON", { line: line.slice(0, 200) });
    }
    if (typeof v !== "object" || v === null || Array.isArray(v))
      return this.quiet.warn("program output rejected: not a JSON object", { line: line.slice(0, 200) });
    const o = v as Record<string, unknown>;
    if (!isKind(o.kind))
      return this.quiet.warn("program output rejected: kind must match ^[a-z][a-z0-9-]{0,31}$", {
        kind: String(o.kind).slice(0, 40),
      });
    if (typeof o.text !== "string" || !o.text.trim())
      return this.quiet.warn("program output rejected: text must be a non-empty string", { kind: o.kind });
    if (o.data !== undefined && (typeof o.data !== "object" || o.data === null || Array.isArray(o.data)))
      return this.quiet.warn("program output rejected: data must be an object", { kind: o.kind });
    if (!this.bucket.take())
      return this.quiet.warn("program output dropped: over its rate", { rate: this.ctx.config.rate });
    if (this.inFlight >= MAX_IN_FLIGHT)
      return this.quiet.warn("program output dropped: too many events waiting for NATS");
    this.inFlight++;
    this.ctx
      .publish({ kind: o.kind, text: o.text, ...(o.data ? { data: o.data as Record<string, unknown> } : {}) })
      .catch((err: Error) => this.quiet.warn("publishing the program's event failed", { error: err.message }))
      .finally(() => this.inFlight--);
  }

  /**
   * Confirmed once the line is written into the program's stdin pipe. A write that fails (the
   * program died) is never confirmed: the bot stops with it, and the next host hands it over again.
   */
  deliver(event: Parameters<Bot["deliver"]>[0], meta: Parameters<Bot["deliver"]>[1]): Promise<void> | void {
    const stdin = this.child?.stdin;
    // The program is gone: the bot stops with it; unconfirmed, the event goes to the next host.
    if (!stdin || stdin.destroyed || !stdin.writable) return new Promise<void>(() => {});
    if (stdin.writableLength > EXEC_DEFAULTS.max_pending_bytes) {
      this.quiet.warn("event not given to the program: it is not reading its input", { pending: stdin.writableLength });
      return;
    }
    // `text` as shown everywhere: a bot's event carries its origin here too.
    const line = JSON.stringify({ ...shownEvent(event), seq: meta.seq, formatted: meta.formatted }) + "\n";
    return new Promise<void>((resolve) => stdin.write(line, (err) => (err ? undefined : resolve())));
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (this.stopping) return void (await this.done);
    this.stopping = true;
    if (!child || child.exitCode !== null || child.signalCode !== null) return this.settle(undefined);
    // End of input is the polite way to ask a filter program to finish; then TERM, then KILL.
    child.stdin?.end();
    const exited = this.done.then(() => true);
    const after = (ms: number) => new Promise<false>((r) => setTimeout(() => r(false), ms).unref());
    if (await Promise.race([exited, after(STOP_GRACE_MS / 3)])) return;
    child.kill("SIGTERM");
    if (await Promise.race([exited, after(STOP_GRACE_MS)])) return;
    child.kill("SIGKILL");
    await this.done;
  }

  closed(): Promise<Error | undefined> {
    return this.done;
  }
}

export const execBot = defineBotType({
  type: "exec",
  schema: execSchema,
  check: (config) => checkExec(config),
  create: (ctx) => new ExecBot(ctx),
});
