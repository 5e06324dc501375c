/**
 * Living together on a real three-node federation: an admin silences a user on node a (their
 * lines refused and audited, everyone else unaffected, the silence expires), then withdraws one
 * of a's events: every log blanks its line in place (the logs stay byte-identical), every audit
 * log records it, the portal's API, Atom feed and a real Chromium page drop it. A member cannot
 * withdraw another node's event: the server refuses the subject, and a withdrawal under its own
 * subject is refused by every consumer.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { encodeEvent, subjectOf } from "../../cluster/envelope.js";
import { waitFor } from "../../cluster/wait-for.js";
import { makeWithdrawal } from "../../cluster/withdraw.js";
import { jetstream } from "@nats-io/jetstream";
import { parseConfig } from "../../cluster/config/load.js";
import { freePort } from "../../cluster/net.js";
import { webSectionSchema, type WebConfig } from "../../bots/web/config.js";
import { WebBot } from "../../bots/web/web-bot.js";
import { common, feed } from "../bots/web/support.js";
import { createBotContext } from "../../bots/context.js";
import { silentLogger } from "../../cluster/logger.js";
import { findByText } from "../../relay/withdraw-find.js";
import { loadWithdrawn } from "../../control/host/withdrawn.js";
import { appendSpool, makeHome } from "../relay/support.js";
import { connectAs, federationPerFile, readLog } from "./harness.js";
import { BUSTLED, runCliSync } from "../support/cli.js";

/** The page's document, inside functions Playwright runs in the browser (the page's CSP forbids string evaluation). */
declare const document: { body: { innerText: string } };

const fed = federationPerFile("bustle-fed-withdraw-", { ids: ["a", "b", "c"] });
const bustled = (node: string, ...args: string[]) =>
  runCliSync(BUSTLED, [...args, "--config", fed().relayNode(node).config]);
const logs = () => fed().nodes.map((n) => readLog(n.log));
const audit = (node: string) => {
  const path = join(fed().relayNode(node).dir, "audit.log");
  return existsSync(path)
    ? readFileSync(path, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
};
const everyLogHas = (text: string) => logs().every((l) => l.includes(text));
const identical = () => logs().every((l) => l === logs()[0]);

test("federation - silence on a: its user's lines are refused and audited, others flow everywhere, it expires", async () => {
  const a = fed().relayNode("a");
  for (const u of ["alice", "bob"]) makeHome(a.homes, u);
  makeHome(fed().relayNode("b").homes, "carol");
  const s = bustled("a", "silence", "alice", "--for", "3s", "--reason", "cool down");
  assert.equal(s.code, 0, s.stderr);
  const until = /until (\S+Z)/.exec(s.stdout)![1]!;
  await waitFor(
    () => audit("a").some((r) => r.what === "silenced users" && (r.users as string[]).includes("alice")),
    5_000,
    "a's relay to pick up the silence",
  );
  appendSpool(a.homes, "alice", ["hushed words"]);
  appendSpool(a.homes, "bob", ["bob on a"]);
  appendSpool(fed().relayNode("b").homes, "carol", ["carol on b"]);
  await waitFor(
    () => everyLogHas("~bob bob on a") && everyLogHas("~carol carol on b"),
    20_000,
    "bob's and carol's lines on every node",
  );
  await waitFor(
    () => audit("a").some((r) => r.reason === "silenced" && r.actor === "alice"),
    10_000,
    "alice's refusal in a's audit",
  );
  assert.ok(
    logs().every((l) => !l.includes("hushed words")),
    "nothing of alice's reached the stream",
  );
  await waitFor(() => Date.now() > Date.parse(until), 10_000, "the silence to end");
  appendSpool(a.homes, "alice", ["free again"]);
  await waitFor(() => everyLogHas("~alice free again"), 20_000, "alice's line after expiry, everywhere");
});

test("federation - a's admin withdraws a's event: blanked in place in every log (byte-identical), audited everywhere, gone from the portal and a real page", async () => {
  const a = fed().relayNode("a");
  // A portal on the bus (as node c's control server would run it), with a page open in Chromium.
  const admin = await connectAs(fed(), "admin", "admin", "c");
  const port = await freePort();
  const botCommon = common("web-fed", "web");
  const config = parseConfig(
    `listen: "127.0.0.1:${port}"\ntitle: fed\nhistory: 100\n`,
    "control.yaml",
    webSectionSchema,
  ) as WebConfig;
  const bot = new WebBot(
    createBotContext({ node: "c", common: botCommon, config, bus: admin.nc, log: silentLogger, stateDir: fed().dir }),
  );
  await bot.start();
  const stopFeed = await feed(admin.nc, botCommon, bot);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    appendSpool(a.homes, "alice", ["my secret address is 12 Elm St"]);
    appendSpool(a.homes, "bob", ["stays put"]);
    await waitFor(() => everyLogHas("12 Elm St") && everyLogHas("~bob stays put"), 20_000, "both lines everywhere");
    await page.waitForFunction(() => document.body.innerText.includes("12 Elm St"), undefined, { timeout: 20_000 });
    const before = logs()[0]!;

    const w = bustled("a", "withdraw", "--match", "elm st", "--since", "10m", "--reason", "personal data");
    assert.equal(w.code, 0, w.stderr);
    assert.match(
      w.stdout,
      /^withdrew \S+ \(\S+ a ~alice my secret address is 12 Elm St\); every node blanks it as the withdrawal arrives\n$/,
    );
    const id = /^withdrew (\S+)/.exec(w.stdout)![1]!;

    await waitFor(
      () => logs().every((l) => !l.includes("12 Elm St") && l.includes("was withdrawn by a's admin: personal data --")),
      20_000,
      "the line blanked in every log",
    );
    await waitFor(identical, 10_000, "byte-identical logs");
    const after = logs()[0]!;
    const line = before.split("\n").find((l) => l.includes("12 Elm St"))!;
    const blanked = after.split("\n").find((l) => l.startsWith(line.slice(0, 27)) && l.includes("-- withdrawn"))!;
    assert.equal(Buffer.byteLength(blanked), Buffer.byteLength(line), "the marker has the line's byte length");
    assert.match(blanked, /^\S+ a -- withdrawn -+$/);
    assert.equal(
      after.slice(0, before.length).replace(blanked, line),
      before,
      "nothing else changed: offsets stay valid",
    );
    for (const n of ["a", "b", "c"]) {
      await waitFor(
        () =>
          audit(n).some(
            (r) => r.what === "withdrawn" && r.target === id && r.why === "personal data" && r.by_node === "a",
          ),
        10_000,
        `${n}'s audit of the withdrawal`,
      );
    }

    const api = (await (await fetch(`http://127.0.0.1:${port}/api/events?limit=500`)).json()) as {
      events: Array<{ id: string; text: string }>;
    };
    assert.ok(!api.events.some((e) => e.id === id), "the API no longer lists it");
    assert.ok(api.events.some((e) => e.text === "~bob stays put"));
    assert.ok(
      !(await (await fetch(`http://127.0.0.1:${port}/feed.atom`)).text()).includes("Elm St"),
      "nor the Atom feed",
    );
    await page.waitForFunction(() => !document.body.innerText.includes("12 Elm St"), undefined, { timeout: 10_000 });
    assert.ok((await page.innerText("body")).includes("~bob stays put"));
    await page.reload();
    await page.waitForFunction(() => document.body.innerText.includes("stays put"), undefined, { timeout: 10_000 });
    assert.ok(!(await page.innerText("body")).includes("12 Elm St"), "a reloaded page does not bring it back");
  } finally {
    await browser.close();
    await stopFeed.stop();
    await bot.stop();
    await admin.nc.close();
  }
});

test("federation - a member cannot withdraw another node's event: the server refuses a's subject, consumers refuse b's own", async () => {
  const a = fed().relayNode("a");
  appendSpool(a.homes, "bob", ["keep me"]);
  await waitFor(() => everyLogHas("~bob keep me"), 20_000, "bob's line everywhere");
  const found = findByText(a.log, "a", "keep me", new Date(Date.now() - 600_000).toISOString());
  assert.equal(found.length, 1);
  const target = found[0]!.id;
  // b's admin asking for it by id: one clear line, nothing sent.
  const other = bustled("b", "withdraw", target);
  assert.equal(other.code, 1);
  assert.equal(
    other.stderr,
    `bustled: event ${target} is from a: only a's admin or the federation's admin may withdraw it\n`,
  );
  // --match must find exactly one event.
  appendSpool(a.homes, "bob", ["twice said", "twice said"]);
  await waitFor(() => logs().every((l) => l.split("twice said").length === 3), 20_000, "both lines everywhere");
  const two = bustled("a", "withdraw", "--match", "TWICE");
  assert.equal(two.code, 1);
  assert.match(
    two.stderr,
    /^bustled: 2 events of a contain "TWICE"; withdraw one by its id:\n {2}\S+ {2}\S+ a ~bob twice said\n {2}\S+ {2}\S+ a ~bob twice said\n$/,
  );
  assert.equal(bustled("a", "withdraw").code, 2, "neither an id nor --match: a usage error");
  const b = await connectAs(fed(), "b", "relay", "b");
  try {
    // Under a's subjects: refused by the server.
    const forged = makeWithdrawal({ node: "a", targetNode: "a", target, by: "mallory" });
    b.nc.publish(subjectOf(forged), encodeEvent(forged));
    await waitFor(
      () => b.refused.includes(subjectOf(forged)),
      10_000,
      "the server to refuse b publishing under a's subjects",
    );
    // Under b's own subjects: accepted by the stream, honoured by nobody.
    const own = makeWithdrawal({ node: "b", targetNode: "a", target, by: "mallory" });
    await jetstream(b.nc).publish(subjectOf(own), encodeEvent(own), { msgID: own.id });
    for (const n of ["a", "b", "c"]) {
      await waitFor(
        () => audit(n).some((r) => r.reason === "withdrawal-not-allowed" && r.target === target),
        10_000,
        `${n} to refuse b's withdrawal`,
      );
    }
    assert.ok(everyLogHas("~bob keep me"), "the line is intact everywhere");
    await waitFor(identical, 10_000, "byte-identical logs");
  } finally {
    await b.nc.close();
  }
});

test("federation - the federation's admin may withdraw any node's event", async () => {
  const bHomes = fed().relayNode("b").homes;
  appendSpool(bHomes, "carol", ["carol's typo"]);
  await waitFor(() => everyLogHas("~carol carol's typo"), 20_000, "carol's line everywhere");
  const target = findByText(fed().relayNode("b").log, "b", "typo", new Date(Date.now() - 600_000).toISOString())[0]!.id;
  // From node a's machine (its log has b's event too), with the admin credential.
  const w = bustled(
    "a",
    "withdraw",
    target,
    "--admin",
    join(fed().adminDir, "admin.yaml"),
    "--reason",
    "asked by carol",
  );
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stdout, new RegExp(`^withdrew ${target} \\(\\S+ b ~carol carol's typo\\); every node blanks it`));
  await waitFor(
    () =>
      logs().every(
        (l) =>
          !l.includes("carol's typo") &&
          l.includes("an event of b was withdrawn by the federation's admin: asked by carol --"),
      ),
    20_000,
    "the line blanked everywhere",
  );
  await waitFor(identical, 10_000, "byte-identical logs");
  for (const n of ["a", "b", "c"])
    assert.ok(
      audit(n).some((r) => r.what === "withdrawn" && r.target === target && r.by_node === "admin"),
      `${n}'s audit`,
    );

  // What a bot host reads before replaying the stream: both allowed withdrawals, not b's forgery.
  const reader = await connectAs(fed(), "admin", "admin", "c");
  try {
    const withdrawn = await loadWithdrawn(reader.nc);
    assert.equal(withdrawn.size, 3, "three withdrawals in the stream");
    const ev = (id: string, node: string) =>
      ({
        v: 1,
        id,
        ts: new Date().toISOString(),
        node,
        source: "spool",
        kind: "update",
        actor: "x",
        text: "x",
      }) as const;
    assert.ok(withdrawn.hides(ev(target, "b")));
    const kept = findByText(fed().relayNode("a").log, "a", "keep me", new Date(Date.now() - 600_000).toISOString())[0]!
      .id;
    assert.ok(!withdrawn.hides(ev(kept, "a")), "b's withdrawal of a's event hides nothing");
  } finally {
    await reader.nc.close();
  }
});
