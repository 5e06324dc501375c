/** TLS to a real server: verified against a configured CA, refused when unverifiable, opt-out with tls_verify: false. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureCa, ensureNodeCert } from "../../../cluster/tls.js";
import { tempDir } from "../../../cluster/temp.js";
import { sleep, waitFor } from "../../../cluster/wait-for.js";
import type { Observer } from "../../fixtures/ii-observer.js";
import { event, observe, startBench, startBot, stopBench, type Bench } from "./harness.js";

const certs = tempDir("bustle-irc-tls-");
const ca = ensureCa(certs.path, "irc test");
const server = ensureNodeCert(ca, join(certs.path, "ircd"), "ircd", ["127.0.0.1", "localhost"]);
const CH = "#secure";
let b: Bench;
let obs: Observer;

before(async () => {
  b = await startBench({ tls: server });
  obs = await observe(b, CH);
});
after(async () => {
  await stopBench(b);
  certs.remove();
});

test("irc tls - verified against the configured CA, events flow", async () => {
  const t = await startBot(b, "irc-tls", {
    nick: "secure",
    channels: [CH],
    tls: true,
    port: b.ircd.tlsPort,
    tls_ca: ca.cert,
  });
  await waitFor(() => t.states.some((s) => s.state === "connected"), 15_000, "the bot in its channel over TLS");
  t.deliver(event("over tls"));
  await waitFor(() => obs.said(CH, "secure").includes("over tls"), 10_000, "the line");
});

test("irc tls - an unverifiable server is refused (and retried), never joined", async () => {
  const t = await startBot(b, "irc-untrusted", { nick: "untrusted", channels: [CH], tls: true, port: b.ircd.tlsPort });
  await waitFor(() => t.states.find((s) => s.state === "reconnecting"), 10_000, "a refused connection");
  const detail = t.states.find((s) => s.state === "reconnecting")!.detail!;
  assert.match(detail, /certificate/i, detail);
  await sleep(2_000);
  assert.ok(!t.states.some((s) => s.state === "connected"));
  assert.ok(!obs.seen(CH).some((l) => l.text.startsWith("untrusted(")), "never joined");
  assert.ok(t.states.filter((s) => s.state === "reconnecting").length >= 2, "keeps retrying");
  await t.bot.stop();
});

test("irc tls - tls_verify: false accepts the server as it is", async () => {
  const t = await startBot(b, "irc-noverify", {
    nick: "trusting",
    channels: [CH],
    tls: true,
    tls_verify: false,
    port: b.ircd.tlsPort,
  });
  await waitFor(() => t.states.some((s) => s.state === "connected"), 15_000, "the bot in its channel");
});
