import { test } from "node:test";
import assert from "node:assert/strict";
import { qwConfig } from "./harness.js";

test("quakeworld config - defaults, durations and the problems a user can make", () => {
  const c = qwConfig({ servers: [{ host: "qw.example.org" }] });
  assert.equal(c.servers[0]!.port, 27500);
  assert.equal(c.poll, 10_000);
  assert.equal(c.window, 600_000);
  assert.deepEqual(c.say_kinds, ["shout"]);
  assert.equal(c.relay_contents, false);
  assert.throws(
    () =>
      qwConfig({
        servers: [
          { host: "a", port: 1 },
          { host: "a", port: 1 },
        ],
      }),
    /a:1 is listed twice/,
  );
  assert.throws(() => qwConfig({ servers: [{ host: "a" }], say_interval: "500ms" }), /say_interval/);
  assert.throws(() => qwConfig({ servers: [{ host: "a" }], say_kinds: ["Shout!"] }), /say_kinds/);
  assert.throws(() => qwConfig({ servers: [{ host: "a", rcon_password: "inline" }] }), /unknown key/);
  assert.throws(() => qwConfig({ servers: [] }), /at least 1/);
});
