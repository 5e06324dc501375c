/**
 * A hostile control server (a member, or whoever holds its control credential) answers
 * `bustle-control status` and a steering command with escape sequences, C1 controls, bidi and
 * invisible characters. What the admin's terminal gets — the table, `--json`, the command's
 * answer and its error line — holds none of them, and the honest fields still show.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeBus, connectBus, type NatsConnection } from "../../cluster/connection.js";
import { silentLogger } from "../../cluster/logger.js";
import type { NatsServer } from "../../cluster/nats-server.js";
import { startServer } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";
import { isSafeText } from "../../cluster/text.js";
import { cli, controlYaml } from "../control/harness.js";

const dir = tempDir("bustle-trust-ctl-cli-");
let server: NatsServer;
let hostile: NatsConnection;
let file: string;

// Clear screen + a fake prompt, an OSC title, an 8-bit CSI, a bidi override, tag characters.
const EVIL = "\u001b[2J\u001b[Hroot# \u001b]0;pwned\u0007\u009b31mred\u202etxt.exe\u{e0041}\u{e0042}\r\nfake line";
const BAD = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\u{e0000}-\u{e007f}]/u;

before(async () => {
  server = await startServer(dir.path);
  hostile = await connectBus({ servers: [server.url], name: "hostile member", logger: silentLogger });
  const bot = {
    id: "victim",
    type: `exec${EVIL}`,
    state: `running${EVIL}`,
    bot: "connected",
    detail: EVIL,
    halted: "yes",
    node: `n2${EVIL}`,
    pid: "1; rm -rf /",
    since: new Date().toISOString(),
    restarts: 3,
    lastError: EVIL,
    seq: 42,
    delivered: 7,
    feeding: true,
  };
  hostile.subscribe("bustle.ctl.status", {
    callback: (_e, m) =>
      void m.respond(JSON.stringify({ node: `n2${EVIL}`, instance: EVIL, bots: [bot, { id: EVIL }] })),
  });
  hostile.subscribe("bustle.ctl.bot.victim", {
    callback: (_e, m) => void m.respond(JSON.stringify({ ok: true, message: `halted ${EVIL}` })),
  });
  hostile.subscribe("bustle.ctl.bot.other", {
    callback: (_e, m) => void m.respond(JSON.stringify({ ok: false, message: `refused ${EVIL}` })),
  });
  await hostile.flush();
  file = join(dir.path, "control.yaml");
  const bots =
    "  - id: victim\n    type: exec\n    exec: {command: [cat]}\n  - id: other\n    type: exec\n    exec: {command: [cat]}\n";
  writeFileSync(file, controlYaml({ node: "n1", urls: [server.url], stateDir: join(dir.path, "state"), bots }));
});
after(async () => {
  await closeBus(hostile);
  await server.stop();
  dir.remove();
});

const clean = (out: string) => out.split("\n").every((l) => !BAD.test(l));

test("control cli - status prints another node's hostile answer with nothing that steers the terminal", async () => {
  const r = await cli(["status", "--config", file]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(clean(r.stdout), JSON.stringify(r.stdout));
  const row = r.stdout.split("\n").find((l) => l.startsWith("victim "));
  assert.ok(row, r.stdout);
  assert.match(row, /^victim\s+execroot# redtxt\.exe fake line\s/);
  assert.match(row, /\s3\s+42\s/, "the honest numbers still show");
  // Header, victim, other, and the bot with the hostile id (reported, so shown): one line each.
  assert.deepEqual(
    r.stdout
      .trim()
      .split("\n")
      .map((l) => l.split(/\s+/)[0]),
    ["BOT", "victim", "other", "root#"],
  );
});

test("control cli - status --json holds the same clean strings, and wrong types are dropped", async () => {
  const r = await cli(["status", "--json", "--config", file]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(clean(r.stdout), JSON.stringify(r.stdout));
  const list = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  const victim = list.find((b) => b.id === "victim")!;
  for (const [k, v] of Object.entries(victim))
    if (typeof v === "string") assert.ok(isSafeText(v, 1000), `${k}: ${JSON.stringify(v)}`);
  assert.equal(victim.halted, false, "a non-boolean halted is not taken");
  assert.equal(victim.pid, undefined, "a non-number pid is dropped");
  assert.equal(victim.seq, 42);
  assert.ok(
    !list.some((b) => typeof b.id === "string" && BAD.test(b.id)),
    "the bot with a hostile id is cleaned or dropped",
  );
});

test("control cli - a steering command's answer and its refusal are printed clean", async () => {
  const ok = await cli(["halt", "victim", "--config", file]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(clean(ok.stdout), JSON.stringify(ok.stdout));
  assert.match(ok.stdout, /^halted root# redtxt\.exe fake line\n$/);
  assert.equal(ok.stdout.split("\n").filter(Boolean).length, 1);
  const refused = await cli(["stop", "other", "--config", file]);
  assert.equal(refused.code, 1);
  assert.ok(clean(refused.stderr), JSON.stringify(refused.stderr));
  assert.match(refused.stderr, /refused root# redtxt\.exe fake line/);
  assert.equal(refused.stderr.split("\n").filter(Boolean).length, 1, "one line");
});
