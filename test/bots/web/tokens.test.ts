import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../../cluster/config/load.js";
import { ConfigError } from "../../../cluster/errors.js";
import { webSectionSchema } from "../../../bots/web/config.js";
import { RateBucket, TokenTable, bearerToken } from "../../../bots/web/tokens.js";

test("web tokens - a bucket allows the burst, then one more per period", () => {
  let now = 0;
  const b = new RateBucket(3, 20_000, () => now);
  assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [true, true, true, false]);
  assert.equal(b.retryAfterSeconds(), 20);
  now = 20_000;
  assert.deepEqual([b.take(), b.take()], [true, false]);
  now = 1_000_000;
  assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [true, true, true, false], "refills up to the burst only");
});

test("web tokens - tokens are recognised exactly; short or missing ones stop the start", () => {
  process.env.BUSTLE_TEST_T1 = "a-long-enough-token-1234";
  process.env.BUSTLE_TEST_SHORT = "short";
  const ok = TokenTable.load(
    [{ name: "one", token_env: "BUSTLE_TEST_T1", kinds: ["game"], rate: { burst: 1, per: 1000 } }],
    "web",
  );
  assert.equal(ok.identify("a-long-enough-token-1234")?.name, "one");
  assert.equal(ok.identify("a-long-enough-token-1235"), undefined);
  assert.equal(ok.identify(""), undefined);
  assert.throws(
    () =>
      TokenTable.load(
        [
          { name: "s", token_env: "BUSTLE_TEST_SHORT", kinds: ["game"], rate: { burst: 1, per: 1000 } },
          { name: "m", token_env: "BUSTLE_TEST_MISSING_TOKEN", kinds: ["game"], rate: { burst: 1, per: 1000 } },
        ],
        "web",
      ),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.length === 2 &&
      /at least 16/.test(err.problems[0]!) &&
      /BUSTLE_TEST_MISSING_TOKEN is not set/.test(err.problems[1]!),
  );
  assert.equal(bearerToken("Bearer abc.def"), "abc.def");
  assert.equal(bearerToken("Basic abc"), undefined);
  assert.equal(bearerToken(undefined), undefined);
});

test("web config - every problem is reported with its line", () => {
  assert.throws(
    () =>
      parseConfig(
        `listen: "127.0.0.1:99999"
tokens:
  - {name: "bad name", kinds: [Game]}
  - {name: ok, token_env: X, token: inline, kinds: [game]}
histroy: 5
`,
        "control.yaml",
        webSectionSchema,
      ),
    (err: unknown) => {
      const p = (err as ConfigError).problems.join("\n");
      return (
        /control.yaml:5 histroy: unknown key \(did you mean "history"\?\)/.test(p) &&
        /control.yaml:3 tokens\[0\]\.name/.test(p) &&
        /tokens\[0\]\.kinds\[0\]/.test(p) &&
        /control.yaml:4 tokens\[1\]\.token: unknown key/.test(p)
      );
    },
  );
  assert.throws(() => parseConfig(`listen: "127.0.0.1:99999"`, "c.yaml", webSectionSchema), /port must be 1–65535/);
  assert.throws(
    () => parseConfig(`{listen: "127.0.0.1:80", tokens: [{name: a, kinds: [game]}]}`, "c.yaml", webSectionSchema),
    /exactly one of token_env or token_file/,
  );
});
