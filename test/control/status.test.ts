import { test } from "node:test";
import assert from "node:assert/strict";
import { registry } from "../../bots/registry.js";
import { backoffDelay } from "../../cluster/backoff.js";
import { mergeStatus, renderStatus } from "../../control/cli/status.js";
import { parseControlConfig } from "../../control/config/control-config.js";

const config = parseControlConfig(
  `node: town
nats: {servers: ["nats://127.0.0.1:4222"]}
bots:
  - {id: a, type: exec, exec: {command: [cat]}}
  - {id: b, type: exec, placement: {node: zia}, exec: {command: [cat]}}
  - {id: c, type: exec, enabled: false, exec: {command: [cat]}}
`,
  "control.yaml",
  registry,
);

test("control status - backoff doubles from the base up to the cap", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, { minMs: 1_000, maxMs: 20_000 })),
    [1_000, 2_000, 4_000, 8_000, 16_000, 20_000, 20_000],
  );
});

test("control status - configured bots nobody holds are unplaced or disabled; held ones come from their server", () => {
  const list = mergeStatus(config, [
    {
      node: "zia",
      instance: "zia-1",
      bots: [
        {
          id: "b",
          type: "exec",
          state: "running",
          halted: true,
          node: "zia",
          since: "2026-11-22T08:00:00.000Z",
          restarts: 2,
          seq: 41,
        },
        { id: "old", type: "exec", state: "running", halted: false, node: "zia", restarts: 0 },
      ],
    },
  ]);
  assert.deepEqual(
    list.map((b) => [b.id, b.state, b.node]),
    [
      ["a", "unplaced", undefined],
      ["b", "running", "zia"],
      ["c", "disabled", undefined],
      ["old", "running", "zia"],
    ],
  );
  const table = renderStatus(list, Date.parse("2026-11-22T08:01:30.000Z"));
  assert.match(table, /^BOT\s+TYPE\s+STATE\s+NODE\s+UPTIME\s+RESTARTS\s+SEQ\s+LAST ERROR$/m);
  assert.match(table, /^b\s+exec\s+running,halted\s+zia\s+1\.5m\s+2\s+41$/m);
  assert.match(table, /^a\s+exec\s+unplaced\s+-\s+-\s+0\s+-$/m);
});
