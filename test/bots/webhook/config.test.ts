import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../../cluster/config/load.js";
import type { ConfigError } from "../../../cluster/errors.js";
import { webhookSectionSchema } from "../../../bots/webhook/config.js";
import { webSectionSchema } from "../../../bots/web/config.js";
import { renderBody, signature } from "../../../bots/webhook/payload.js";
import { makeEvent } from "../../../cluster/envelope.js";

const problems = (yaml: string): string[] => {
  try {
    parseConfig(yaml, "control.yaml", webhookSectionSchema);
    return [];
  } catch (err) {
    return [...(err as ConfigError).problems];
  }
};

test("webhook config - defaults, and every problem named with its key", () => {
  const c = parseConfig(`{url: "https://example.org/hook"}`, "control.yaml", webhookSectionSchema);
  assert.equal(c.shape, "json");
  assert.equal(c.attempts, 8);
  assert.deepEqual(c.backoff, { initial: 1000, max: 300_000 });
  assert.match(
    problems(`{url: "https://example.org/", shape: teams}`).join(),
    /control.yaml:1 shape: must be one of json, discord, slack/,
  );
  // Cross-key rules run once every key is well-formed.
  const p = problems(`url: "https://user:pw@example.org/"
headers: {X-Bustle-Signature: forged, X-Api-Key: fine}
backoff: {initial: 10s, max: 1s}
secret_env: A
secret_file: /x
`).join("\n");
  assert.match(p, /url: must not contain user:password@/);
  assert.match(p, /headers\.X-Bustle-Signature: is set by bustle itself/);
  assert.match(p, /backoff\.max: must be at least backoff\.initial/);
  assert.match(p, /at most one of secret_env and secret_file/);
  assert.match(problems(`{url: "ftp://example.org/"}`).join(), /url: must be an http:\/\/ or https:\/\/ URL/);
});

test("webhook config - web and webhook sections validate again after conversion (the bot host re-checks them)", () => {
  for (const [schema, yaml] of [
    [webhookSectionSchema, `{url: "https://example.org/", timeout: 5s, backoff: {initial: 1s, max: 1m}}`],
    [
      webSectionSchema,
      `{listen: "127.0.0.1:8080", request_timeout: 5s, tokens: [{name: a, token_env: T, kinds: [game], rate: {burst: 2, per: 1s}}]}`,
    ],
  ] as const) {
    const once = parseConfig(yaml, "a.yaml", schema as typeof webhookSectionSchema);
    const twice = parseConfig(JSON.stringify(once), "b.yaml", schema as typeof webhookSectionSchema);
    assert.deepEqual(twice, once);
  }
});

test("webhook payload - shapes and the signature over timestamp and body", () => {
  const e = makeEvent({
    node: "town",
    source: "spool",
    kind: "shout",
    actor: "alice",
    text: "hi <@everyone> & <!here>",
  });
  assert.deepEqual(JSON.parse(renderBody("json", e, "[town] x")), { ...e, formatted: "[town] x" });
  assert.equal(JSON.parse(renderBody("discord", e, "d".repeat(3000))).content.length, 2000);
  assert.equal(JSON.parse(renderBody("slack", e, e.text)).text, "hi &lt;@everyone&gt; &amp; &lt;!here&gt;");
  // A fixed vector, so a receiver's implementation can be checked against it.
  assert.equal(
    signature("secret", 1700000000, '{"a":1}'),
    "sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686",
  );
});
