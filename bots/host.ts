#!/usr/bin/env node
/**
 * The bot host: a child process running exactly one bot for its control server. It receives
 * `init` over IPC, validates the bot's section with the registry's schema, connects to NATS,
 * starts the bot, and feeds it the matching events from the BUSTLE stream from its saved
 * position. It reports readiness, heartbeats and the bot's own state changes, obeys halt /
 * resume / stop, and never outlives its control server: when the IPC channel goes away it stops
 * the bot and takes its whole process group (the bot's own programs) down with it.
 */
import { mkdirSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { formatPath } from "../cluster/config/schema.js";
import { closeBus, connectBus, type NatsConnection } from "../cluster/connection.js";
import { createLogger, describeError } from "../cluster/logger.js";
import type { Bot } from "./bot.js";
import { createBotContext } from "./context.js";
import { startFeed, streamLastSeq, type Feed } from "./host/feed.js";
import { PositionStore } from "./host/position.js";
import { loadWithdrawn } from "./host/withdrawn.js";
import { isToHost, type FromHost, type HostInit } from "./host/protocol.js";
import type { Registry } from "./registry.js";

let log = createLogger({ component: "bot-host" });
let nc: NatsConnection | undefined;
let bot: Bot | undefined;
let feed: Feed | undefined;
let position: PositionStore | undefined;
let halted = false;
let delivered = 0;
let stopping = false;
let heartbeat: NodeJS.Timeout | undefined;
let leaseTimer: NodeJS.Timeout | undefined;

/** The control server's lease on this bot runs out at `until` unless renewed: then die at once. */
function leaseUntil(until: number): void {
  if (typeof until !== "number" || !Number.isFinite(until)) return;
  clearTimeout(leaseTimer);
  leaseTimer = setTimeout(() => {
    log.error("the control server did not renew this bot's lease in time; stopping at once");
    process.exit(3); // the exit handler kills the whole process group
  }, Math.max(0, until - Date.now()));
}

function send(m: FromHost): void {
  if (process.connected) process.send!(m, undefined, {}, () => {});
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function shutdown(code: number, hardMs: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    setTimeout(() => process.exit(code), hardMs).unref();
    clearInterval(heartbeat);
    // The feed first (no more hand-overs; confirmations still move the position), then the bot,
    // whose unconfirmed events stay behind the saved position for the next host.
    const feedStopped = feed?.stop().catch(() => {});
    await bot?.stop().catch((err) => log.warn("bot did not stop cleanly", { error: err }));
    await feedStopped;
    await position?.close();
    await closeBus(nc, log);
  }
  process.exit(code);
}

async function fatal(message: string): Promise<never> {
  log.error(message);
  send({ t: "error", message });
  return shutdown(1, 5_000);
}

/** Reads from the stream in the background until it exists (the relays create it). */
async function runFeed(init: HostInit, formatted: (e: Parameters<Bot["deliver"]>[0]) => string): Promise<void> {
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
        onConsumed: (seq) => position!.advance(seq),
      });
      if (warned) send({ t: "state", state: "connected", detail: "reading the stream" });
      log.info("feed started", { from: last + 1 });
      send({ t: "heartbeat", seq: position.seq, delivered, halted, feeding: true });
      return;
    } catch (err) {
      if (!warned) {
        warned = true;
        log.warn("cannot read the BUSTLE stream yet; retrying", { error: err });
        send({ t: "state", state: "degraded", detail: `cannot read the stream: ${describeError(err)}` });
      }
      await sleep(1_000);
    }
  }
}

async function main(init: HostInit): Promise<void> {
  const { common } = init;
  log = log.child(common.id, { bot: common.id, type: common.type });
  halted = init.halted;
  let registry: Registry;
  try {
    registry = ((await import(pathToFileURL(init.registryModule).href)) as { registry: Registry }).registry;
  } catch (err) {
    return void (await fatal(`cannot load the bot registry ${init.registryModule}: ${describeError(err)}`));
  }
  const type = registry[common.type];
  if (!type) return void (await fatal(`unknown bot type ${JSON.stringify(common.type)}`));
  const problems: string[] = [];
  const config = type.schema.check(init.section, [common.type], { report: (p, m) => problems.push(`${formatPath(p)}: ${m}`) });
  if (problems.length) return void (await fatal(`bad config: ${problems.join("; ")}`));
  mkdirSync(init.stateDir, { recursive: true, mode: 0o700 });
  nc = await connectBus({ ...init.bus, name: `bustle-bot ${common.id}`, logger: log, inboxPrefix: `_INBOX.${init.node}` });
  const ctx = createBotContext({
    node: init.node, common, config, bus: nc, log, stateDir: init.stateDir,
    report: (state, detail) => send({ t: "state", state, detail }),
  });
  try {
    bot = type.create(ctx);
    void bot.closed().then((err) => {
      if (stopping) return;
      if (err) void fatal(`bot stopped: ${describeError(err)}`);
      else void shutdown(0, 5_000);
    });
    await bot.start();
  } catch (err) {
    return void (await fatal(`bot could not start: ${describeError(err)}`));
  }
  if (stopping) return;
  heartbeat = setInterval(() => send({ t: "heartbeat", seq: position?.seq ?? 0, delivered, halted, feeding: feed !== undefined }), init.heartbeatMs);
  send({ t: "ready", seq: position?.seq ?? 0 });
  log.info("bot started", { halted });
  await runFeed(init, (e) => ctx.format(e));
}

if (!process.send) {
  process.stderr.write("bustle bot host: this program is started by `bustle-control serve`, not by hand\n");
  process.exit(2);
}
// Never outlive the control server: its lease on this bot ends with it.
process.on("disconnect", () => void shutdown(0, 2_000));
process.on("SIGTERM", () => void shutdown(0, 5_000));
process.on("exit", () => {
  // The host leads its own process group: take any program the bot started down with it.
  try {
    process.kill(-process.pid, "SIGKILL");
  } catch {
    /* not a group leader, or nothing left */
  }
});
process.on("message", (m: unknown) => {
  if (!isToHost(m)) return log.warn("ignoring an unknown message from the control server");
  switch (m.t) {
    case "init":
      leaseUntil(m.leaseUntil);
      main(m).catch((err) => void fatal(`bot host failed: ${describeError(err)}`));
      break;
    case "halt":
    case "resume":
      halted = m.t === "halt";
      log.info(halted ? "halted: delivering nothing until resumed" : "resumed");
      send({ t: "halted", halted });
      break;
    case "stop":
      void shutdown(0, 10_000);
      break;
    case "lease":
      leaseUntil(m.until);
      break;
  }
});
