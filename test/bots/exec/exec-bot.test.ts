import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subscription } from "@nats-io/transport-node";
import { connectBus, closeBus, type NatsConnection } from "../../../cluster/connection.js";
import { ensureStream } from "../../../cluster/stream.js";
import { createLogger } from "../../../cluster/logger.js";
import { makeEvent, decodeEvent, type BustleEvent } from "../../../cluster/envelope.js";
import { startServer } from "../../../cluster/servers.js";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor, sleep } from "../../../cluster/wait-for.js";
import type { NatsServer } from "../../../cluster/nats-server.js";
import type { Bot, CommonBotConfig } from "../../../bots/bot.js";
import { createBotContext } from "../../../bots/context.js";
import { execBot } from "../../../bots/exec/exec-bot.js";

const dir = tempDir("bustle-exec-");
let server: NatsServer;
let nc: NatsConnection;
const running: Bot[] = [];

before(async () => {
  server = await startServer(dir.path);
  nc = await connectBus({ servers: [server.url], name: "exec-test", logger: createLogger({ write: () => {} }) });
  await ensureStream(nc, {}, createLogger({ write: () => {} }));
});
after(async () => {
  await Promise.all(running.map((b) => b.stop()));
  await closeBus(nc);
  await server.stop();
  dir.remove();
});

function script(name: string, text: string): string {
  const p = join(dir.path, name);
  writeFileSync(p, text, { mode: 0o755 });
  return p;
}

/** Starts an exec bot in this process; returns it, its log lines and the events it published. */
async function startBot(
  id: string,
  exec: Record<string, unknown>,
): Promise<{ bot: Bot; logs: string[]; out: BustleEvent[]; sub: Subscription }> {
  const logs: string[] = [];
  const out: BustleEvent[] = [];
  const sub = nc.subscribe(`bustle.ev.town.${id}.>`, { callback: (_e, m) => void out.push(decodeEvent(m.data)) });
  await nc.flush();
  const problems: string[] = [];
  const config = execBot.schema.check(exec, ["exec"], { report: (p, m) => problems.push(`${p.join(".")}: ${m}`) });
  assert.deepEqual(problems, []);
  const common: CommonBotConfig = {
    id,
    type: "exec",
    enabled: true,
    subscribe: ["bustle.ev.>"],
    format: "<{actor}> {text}",
  };
  const ctx = createBotContext({
    node: "town",
    common,
    config: config as never,
    bus: nc,
    log: createLogger({ write: (l) => void logs.push(l) }),
    stateDir: dir.path,
  });
  const bot = execBot.create(ctx);
  running.push(bot);
  await bot.start();
  return { bot, logs, out, sub };
}

const event = (text: string) => makeEvent({ node: "zia", source: "spool", kind: "update", actor: "alice", text });

const ROUND_TRIP_SH = `#!/bin/sh
while IFS= read -r line; do
  seq=$(printf '%s' "$line" | sed -n 's/.*"seq":\\([0-9]*\\).*/\\1/p')
  printf '{"kind":"chat","text":"sh saw event %s"}\\n' "$seq"
done
`;

const ROUND_TRIP_PY = `import json, sys
for line in sys.stdin:
    e = json.loads(line)
    print(json.dumps({"kind": "chat", "text": "py saw " + e["formatted"] + " from " + e["node"]}), flush=True)
`;

test("exec - a shell program round-trips events both ways", async () => {
  const { bot, out } = await startBot("sh-bot", { command: [script("rt.sh", ROUND_TRIP_SH)] });
  await bot.deliver(event("one"), { seq: 41, formatted: "<alice> one" });
  await bot.deliver(event("two"), { seq: 42, formatted: "<alice> two" });
  await waitFor(() => out.length >= 2, 10_000, "two events back from the shell program");
  assert.deepEqual(
    out.map((e) => e.text),
    ["sh saw event 41", "sh saw event 42"],
  );
  assert.deepEqual(
    out.map((e) => [e.source, e.kind, e.node, e.actor]),
    [
      ["sh-bot", "chat", "town", "sh-bot"],
      ["sh-bot", "chat", "town", "sh-bot"],
    ],
  );
});

test("exec - a python3 program round-trips events both ways", async () => {
  const { bot, out } = await startBot("py-bot", { command: ["python3", "-u", script("rt.py", ROUND_TRIP_PY)] });
  await bot.deliver(event("hello there"), { seq: 7, formatted: "<alice> hello there" });
  await waitFor(() => out.length >= 1, 10_000, "an event back from the python program");
  assert.equal(out[0]!.text, "py saw <alice> hello there from zia");
  assert.equal(out[0]!.source, "py-bot");
});

test("exec - garbage output is rejected with a logged reason and the bot keeps running", async () => {
  const long = "x".repeat(5000);
  const { bot, out, logs } = await startBot("junk-bot", {
    max_line_bytes: 1024,
    command: [
      "sh",
      "-c",
      `printf 'not json\\n[1,2]\\n{"kind":"Bad Kind","text":"x"}\\n{"kind":"chat","text":""}\\n{"kind":"chat","text":"${long}"}\\n\\033[31m\\n{"kind":"chat","text":"fine \\\\u001b[2Jafter junk"}\\n'; exec sleep 60`,
    ],
  });
  await waitFor(() => out.length >= 1, 10_000, "the one good line");
  await sleep(300);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.text, "fine after junk", "escape sequences are removed");
  const text = logs.join("");
  for (const reason of [
    "not JSON",
    "not a JSON object",
    "kind must match",
    "text must be a non-empty string",
    "line too long",
  ]) {
    assert.match(text, new RegExp(`program output rejected: ${reason}`));
  }
  const settled = await Promise.race([bot.closed().then(() => true), sleep(200).then(() => false)]);
  assert.equal(settled, false, "the bot is still running");
});

test("exec - a flooding program is held to its rate and its reasons are not flooded into the log", async () => {
  const { bot, out, logs } = await startBot("flood-bot", {
    rate: { burst: 5, per_minute: 60 },
    command: [
      "python3",
      "-c",
      `import sys\nfor i in range(20000): sys.stdout.write('{"kind":"chat","text":"flood %d"}\\n' % i)\nsys.stdout.flush()\nimport time; time.sleep(60)`,
    ],
  });
  await waitFor(() => logs.some((l) => l.includes("over its rate")), 10_000, "the rate limit to bite");
  await sleep(1500);
  assert.ok(out.length >= 5 && out.length <= 8, `published ${out.length}`);
  assert.ok(logs.length < 50, `log lines: ${logs.length}`);
  const settled = await Promise.race([bot.closed().then(() => true), sleep(100).then(() => false)]);
  assert.equal(settled, false);
});

test("exec - a program that does not read its input loses events instead of growing memory", async () => {
  const { bot, logs } = await startBot("deaf-bot", { command: ["sleep", "60"] });
  const e = event("y".repeat(390));
  // Handed over as the host does, without waiting for each confirmation (a line is confirmed once it is in the pipe).
  for (let i = 0; i < 20_000; i++) void bot.deliver(e, { seq: i, formatted: e.text });
  assert.match(logs.join(""), /not reading its input/);
  const rss = process.memoryUsage().rss;
  assert.ok(rss < 600 * 1024 * 1024, `rss ${rss}`);
});

test("exec - the program dying closes the bot with an error", async () => {
  const { bot } = await startBot("dying-bot", { command: ["sh", "-c", "sleep 0.2; exit 3"] });
  const err = await bot.closed();
  assert.ok(err instanceof Error);
  assert.match(err.message, /exited with code 3/);
});

test("exec - stop ends the program and resolves closed() without an error", async () => {
  const { bot } = await startBot("stop-bot", { command: ["cat"] });
  await bot.stop();
  assert.equal(await bot.closed(), undefined);
});
