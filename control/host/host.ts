/**
 * The bot host: runs exactly one bot for its control server. On `init` it validates the bot's
 * section with the registry's schema, connects to NATS, starts the bot, and feeds it the
 * matching events from the BUSTLE stream from its saved position. It reports readiness,
 * heartbeats and the bot's own state changes, obeys halt / resume / stop, and ends itself when
 * the control server's lease on the bot runs out.
 *
 * Built here, run as a child process by control/bin/bot-host.ts (which wires the IPC channel,
 * the signals and process exit to it); a test runs it in-process with plain functions.
 */
import { mkdirSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { formatPath } from "../../cluster/config/schema.js";
import { closeBus, connectBus, type NatsConnection } from "../../cluster/connection.js";
import { describeError, type Logger } from "../../cluster/logger.js";
import type { Bot } from "../../bots/bot.js";
import type { BustleEvent } from "../../cluster/envelope.js";
import { createBotContext } from "../../bots/context.js";
import type { Registry } from "../../bots/registry.js";
import { startFeed, streamLastSeq, type Feed } from "./feed.js";
import { PositionStore } from "./position.js";
import { isToHost, type FromHost, type HostInit } from "./protocol.js";
import { loadWithdrawn } from "./withdrawn.js";

export interface HostDeps {
  /** Sends a message to the control server (the IPC channel in the program). Never throws. */
  send(m: FromHost): void;
  /**
   * Ends the host with an exit code: once a stop has finished; at once when the lease runs out,
   * when a stop drags past its limit, or when a second stop is asked for while one runs. The
   * program exits the process there (its exit handler takes the bot's programs down too).
   */
  exit(code: number): void;
  log: Logger;
}

export interface BotHost {
  /**
   * Starts the bot `init` describes and resolves once it is running and `ready` is sent; the feed
   * then starts in the background (retrying until the stream exists). Never rejects: a failure is
   * sent as an `error` message and ends the host with exit code 1. Only the first call counts.
   */
  start(init: HostInit): Promise<void>;
  /** Handles one message from the control server (`init` calls start); unknown ones are logged and ignored. */
  receive(m: unknown): void;
  /**
   * Stops the feed (no more hand-overs), then the bot (its unconfirmed events stay behind the
   * saved position for the next host), saves the position, closes the connection, then
   * `exit(code)` — or `exit(code)` after `hardMs` if that takes longer. Resolves when done.
   */
  stop(code: number, hardMs: number): Promise<void>;
}

const RETRY_FEED_MS = 1_000;

export function createHost(deps: HostDeps): BotHost {
  let log = deps.log;
  let nc: NatsConnection | undefined;
  let bot: Bot | undefined;
  let feed: Feed | undefined;
  let position: PositionStore | undefined;
  let halted = false;
  let delivered = 0;
  let started = false;
  let stopping: Promise<void> | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let leaseTimer: NodeJS.Timeout | undefined;
  let retryTimer: { timer: NodeJS.Timeout; wake(): void } | undefined;

  /** The control server's lease on this bot runs out at `until` unless renewed: then end at once. */
  function leaseUntil(until: number): void {
    if (typeof until !== "number" || !Number.isFinite(until)) return;
    clearTimeout(leaseTimer);
    leaseTimer = setTimeout(
      () => {
        log.error("the control server did not renew this bot's lease in time; stopping at once");
        deps.exit(3);
      },
      Math.max(0, until - Date.now()),
    );
  }

  function stop(code: number, hardMs: number): Promise<void> {
    if (stopping) {
      deps.exit(code); // asked again while stopping: no more waiting
      return stopping;
    }
    stopping = (async () => {
      const hard = setTimeout(() => deps.exit(code), hardMs);
      hard.unref();
      clearInterval(heartbeat); // the lease timer stays: a stop must not outlast the lease either
      if (retryTimer) {
        clearTimeout(retryTimer.timer);
        retryTimer.wake();
      }
      const feedStopped = feed?.stop().catch(() => {});
      await bot?.stop().catch((err: unknown) => log.warn("bot did not stop cleanly", { error: err }));
      await feedStopped;
      await position?.close();
      await closeBus(nc, log);
      clearTimeout(hard);
      clearTimeout(leaseTimer);
      deps.exit(code);
    })();
    return stopping;
  }

  async function fatal(message: string): Promise<void> {
    log.error(message);
    deps.send({ t: "error", message });
    return stop(1, 5_000);
  }

  const pause = (ms: number) => new Promise<void>((wake) => (retryTimer = { timer: setTimeout(wake, ms), wake }));

  /** Reads from the stream in the background until it exists (the relays create it). */
  async function runFeed(init: HostInit, formatted: (e: BustleEvent) => string): Promise<void> {
    let warned = false;
    while (!stopping) {
      try {
        position ??= await PositionStore.open(nc!, init.common.id, log);
        let last = await position.load();
        if (last === undefined) {
          // A bot that never ran starts with new events only, and remembers that point at once.
          last = await streamLastSeq(nc!);
          position.advance(last);
          await position.save();
        }
        const withdrawn = await loadWithdrawn(nc!);
        const store = position;
        feed = await startFeed({
          nc: nc!,
          common: init.common,
          startSeq: last + 1,
          log,
          // Resolves when the bot confirms the event: only then may the position pass it.
          onEvent: async (event, seq) => {
            if (halted) return; // skipped while halted, by design
            if (stopping) throw new Error("stopping"); // not handed over: the next host gets it
            withdrawn.note(event);
            if (withdrawn.hides(event)) return; // taken back by its node's admin: never handed on
            await bot!.deliver(event, { seq, formatted: formatted(event) });
            delivered++;
          },
          onConsumed: (seq) => store.advance(seq),
        });
        if (warned) deps.send({ t: "state", state: "connected", detail: "reading the stream" });
        log.info("feed started", { from: last + 1 });
        deps.send({ t: "heartbeat", seq: position.seq, delivered, halted, feeding: true });
        return;
      } catch (err) {
        if (!warned) {
          warned = true;
          log.warn("cannot read the BUSTLE stream yet; retrying", { error: err });
          deps.send({ t: "state", state: "degraded", detail: `cannot read the stream: ${describeError(err)}` });
        }
        await pause(RETRY_FEED_MS);
      }
    }
  }

  async function run(init: HostInit): Promise<void> {
    const { common } = init;
    log = log.child(common.id, { bot: common.id, type: common.type });
    halted = init.halted;
    let registry: Registry;
    try {
      registry = ((await import(pathToFileURL(init.registryModule).href)) as { registry: Registry }).registry;
    } catch (err) {
      return fatal(`cannot load the bot registry ${init.registryModule}: ${describeError(err)}`);
    }
    const type = registry[common.type];
    if (!type) return fatal(`unknown bot type ${JSON.stringify(common.type)}`);
    const problems: string[] = [];
    const config = type.schema.check(init.section, [common.type], {
      report: (p, m) => problems.push(`${formatPath(p)}: ${m}`),
    });
    if (problems.length) return fatal(`bad config: ${problems.join("; ")}`);
    mkdirSync(init.stateDir, { recursive: true, mode: 0o700 });
    nc = await connectBus({
      ...init.bus,
      name: `bustle-bot ${common.id}`,
      logger: log,
      inboxPrefix: `_INBOX.${init.node}`,
    });
    const ctx = createBotContext({
      node: init.node,
      common,
      config,
      bus: nc,
      log,
      stateDir: init.stateDir,
      report: (state, detail) => deps.send({ t: "state", state, detail }),
    });
    try {
      bot = type.create(ctx);
      void bot.closed().then((err) => {
        if (stopping) return;
        if (err) void fatal(`bot stopped: ${describeError(err)}`);
        else void stop(0, 5_000);
      });
      await bot.start();
    } catch (err) {
      return fatal(`bot could not start: ${describeError(err)}`);
    }
    if (stopping) return;
    heartbeat = setInterval(
      () => deps.send({ t: "heartbeat", seq: position?.seq ?? 0, delivered, halted, feeding: feed !== undefined }),
      init.heartbeatMs,
    );
    deps.send({ t: "ready", seq: position?.seq ?? 0 });
    log.info("bot started", { halted });
    void runFeed(init, (e) => ctx.format(e)).catch((err: unknown) => fatal(`bot host failed: ${describeError(err)}`));
  }

  function start(init: HostInit): Promise<void> {
    if (started) {
      log.warn("ignoring a second init from the control server");
      return Promise.resolve();
    }
    started = true;
    leaseUntil(init.leaseUntil);
    return run(init).catch((err: unknown) => fatal(`bot host failed: ${describeError(err)}`));
  }

  function receive(m: unknown): void {
    if (!isToHost(m)) return log.warn("ignoring an unknown message from the control server");
    switch (m.t) {
      case "init":
        void start(m);
        break;
      case "halt":
      case "resume":
        halted = m.t === "halt";
        log.info(halted ? "halted: delivering nothing until resumed" : "resumed");
        deps.send({ t: "halted", halted });
        break;
      case "stop":
        void stop(0, 10_000);
        break;
      case "lease":
        leaseUntil(m.until);
        break;
    }
  }

  return { start, receive, stop };
}
