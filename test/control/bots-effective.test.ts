/**
 * Which bots a control server supervises when the federation has a stored list
 * (control/bots-config/effective.ts), and the `federation:` section of control.yaml: plain
 * values, no servers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ConfigError } from "../../cluster/errors.js";
import { registry } from "../../bots/registry.js";
import { parseControlConfig } from "../../control/config/control-config.js";
import { botLabels, parseStoredBots, readDocument } from "../../control/bots-config/document.js";
import { effectiveBots } from "../../control/bots-config/effective.js";

const head = `node: town\nnats: {servers: ["nats://127.0.0.1:4222"]}\n`;
const bot = (id: string, format = "{text}", extra = "") =>
  `  - {id: ${id}, type: exec, format: "${format}", exec: {command: [cat]}${extra}}\n`;
const local = (federation: string, bots: string) =>
  parseControlConfig(`${head}${federation}bots:\n${bots}`, "control.yaml", registry);
const stored = (list: unknown[], revision = 4) => ({ revision, specs: parseStoredBots(list, registry, "stored") });
const exec = (id: string, format = "{text}", command = ["cat"]) => ({ id, type: "exec", format, exec: { command } });
const ids = (e: ReturnType<typeof effectiveBots>) => e.bots.map((b) => `${b.common.id}:${b.common.format}`);

test("bots effective - no stored list: this file's bots, as before (disable still applies)", () => {
  const c = local("federation: {disable: [b]}\n", bot("a") + bot("b"));
  assert.deepEqual(ids(effectiveBots(c, undefined, registry)), ["a:{text}"]);
  assert.equal(effectiveBots(c, undefined, registry).source, "local");
});

test("bots effective - follow: the stored list replaces the file's; pinned entries win here; disabled ones are left out", () => {
  const c = local("federation: {pin: [b, mine], disable: [c]}\n", bot("a", "LOCAL") + bot("b", "PINNED") + bot("mine"));
  const e = effectiveBots(c, stored([exec("b", "STORED"), exec("c"), exec("d")]), registry);
  assert.deepEqual(ids(e), ["d:{text}", "b:PINNED", "mine:{text}"]);
  assert.equal(e.source, 4);
});

test("bots effective - ignore: the file's bots whatever is stored", () => {
  const c = local("federation: {bots: ignore}\n", bot("a"));
  assert.deepEqual(ids(effectiveBots(c, stored([exec("z")]), registry)), ["a:{text}"]);
});

test("bots effective - a stored bot whose checks fail on this node is skipped here only, with the reason", () => {
  const c = parseControlConfig(`${head}bots: []\n`, "control.yaml", registry);
  const e = effectiveBots(
    c,
    stored([
      exec("ok"),
      exec("missing", "{text}", ["/nonexistent/bustle-prog"]),
      { ...exec("elsewhere", "{text}", ["/nonexistent/x"]), placement: { node: "zia" } },
    ]),
    registry,
  );
  assert.deepEqual(
    e.bots.map((b) => b.common.id),
    ["ok", "elsewhere"],
  );
  assert.equal(e.skipped.length, 1);
  assert.equal(e.skipped[0]!.id, "missing");
  assert.match(e.skipped[0]!.why, /nonexistent/);
  // The CLI lists and steers bots without running them: no checks.
  assert.deepEqual(
    effectiveBots(c, stored([exec("missing", "{text}", ["/nonexistent/bustle-prog"])]), undefined).bots.map(
      (b) => b.common.id,
    ),
    ["missing"],
  );
});

test("bots effective - a pinned bot must be in the file's bots (file:line), and the mode is follow or ignore", () => {
  assert.throws(
    () => local("federation:\n  pin: [ghost]\n", bot("a")),
    (err: ConfigError) => {
      assert.match(err.message, /^control\.yaml:4 federation\.pin\[0\]: "ghost" is not a bot of this file/);
      return true;
    },
  );
  assert.throws(
    () => local("federation: {bots: always}\n", bot("a")),
    /control\.yaml:3 federation\.bots: must be one of follow, ignore/,
  );
});

test("bots effective - a stored list that does not validate names the revision and the key", () => {
  assert.throws(
    () =>
      parseStoredBots(
        [exec("a"), { id: "a", type: "exec", exec: { command: ["cat"] } }, { id: "b", type: "nope" }],
        registry,
        "federation bots config revision 9",
      ),
    (err: ConfigError) => {
      assert.match(err.message, /federation bots config revision 9 bots\[1\]\.id: duplicate bot id "a"/);
      assert.match(err.message, /federation bots config revision 9 bots\[2\]\.type: unknown bot type "nope"/);
      return true;
    },
  );
});

test("bots document - strings read back from KV are sanitised before anything prints them", () => {
  const raw = {
    v: 1,
    bots: [{ id: "a\u001b]0;owned\u0007", type: "exec\u009b2J" }],
    applied: { user: "admin", unix: "mal\u001b[2Jlory\nroot", host: "h\u202eost", at: 5, file: "f" },
  };
  const doc = readDocument(new TextEncoder().encode(JSON.stringify(raw)))!;
  const printed = [doc.applied.user, doc.applied.unix, doc.applied.host, doc.applied.at, ...botLabels(doc.bots)].join(
    " ",
  );
  assert.doesNotMatch(printed, /[\u0000-\u001f\u007f-\u009f\u202e]/);
  assert.equal(doc.applied.at, "?");
  assert.equal(readDocument(new TextEncoder().encode("{not json")), undefined);
  assert.equal(readDocument(new TextEncoder().encode(JSON.stringify({ v: 2, bots: [] }))), undefined);
});
