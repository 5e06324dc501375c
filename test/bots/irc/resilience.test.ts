/** A well-mannered bot on a real server: nick fallback, rejoin after kick, reconnect after a server restart. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "../../../cluster/wait-for.js";
import { event, observe, startBench, startBot, stopBench, type Bench } from "./harness.js";

let b: Bench;

before(async () => {
  b = await startBench();
});
after(() => stopBench(b));

const joinsOf = (lines: Array<{ nick: string; text: string }>, nick: string) =>
  lines.filter((l) => l.nick === "-!-" && l.text.startsWith(`${nick}(`) && /has joined/.test(l.text)).length;

test("irc resilience - a taken nick falls back, and the real one is reclaimed when free", async () => {
  const CH = "#nicks";
  const holder = await observe(b, CH, "relay");
  const t = await startBot(b, "irc-nick", { nick: "relay", channels: [CH], rejoin_delay: "2s" });
  await waitFor(() => joinsOf(holder.seen(CH), "relay_") === 1, 15_000, "relay_ joined");
  t.deliver(event("hello from the fallback"));
  await waitFor(() => holder.said(CH, "relay_").includes("hello from the fallback"), 10_000, "a line from relay_");
  await holder.stop();
  const watcher = await observe(b, CH, "watcher");
  await waitFor(() => t.bot.nick === "relay", 10_000, "the nick reclaimed");
  t.deliver(event("still here"));
  await waitFor(() => watcher.said(CH, "relay").includes("still here"), 15_000, "the bot back under its own nick");
});

test("irc resilience - kicked, it rejoins after the delay", async () => {
  const CH = "#kicks";
  const op = await observe(b, CH, "op");
  const t = await startBot(b, "irc-kick", { nick: "kicked", channels: [CH], rejoin_delay: "2s" });
  await waitFor(() => joinsOf(op.seen(CH), "kicked") === 1, 15_000, "the bot joined");
  const at = Date.now();
  await op.write(`/KICK ${CH} kicked :out you go`);
  await waitFor(
    () => op.seen(CH).some((l) => /kicked/.test(l.text) && /out you go|kick/i.test(l.raw)),
    5_000,
    "the kick",
  );
  await waitFor(() => joinsOf(op.seen(CH), "kicked") === 2, 15_000, "the bot rejoined");
  assert.ok(Date.now() - at >= 1_900, "waited before rejoining");
  t.deliver(event("back again"));
  await waitFor(() => op.said(CH, "kicked").includes("back again"), 10_000, "a line after the rejoin");
});

test("irc resilience - the server restarted under the bot: it reconnects and rejoins on its own", async () => {
  const CH = "#restart";
  await observe(b, CH, "before");
  const t = await startBot(b, "irc-restart", { nick: "survivor", channels: [CH, "#second"] });
  await waitFor(() => t.states.some((s) => s.state === "connected"), 15_000, "the bot in its channels");
  const connectedBefore = t.states.filter((s) => s.state === "connected").length;
  await b.ircd.restart();
  await waitFor(() => t.states.some((s) => s.state === "reconnecting"), 15_000, "the bot noticing");
  await waitFor(
    () => t.states.filter((s) => s.state === "connected").length > connectedBefore,
    30_000,
    "connected again",
  );
  const after = await observe(b, CH, "after");
  const second = await observe(b, "#second", "after2");
  t.deliver(event("survived the restart"));
  await waitFor(
    () => after.said(CH, "survivor").includes("survived the restart"),
    15_000,
    "a line in the first channel",
  );
  await waitFor(
    () => second.said("#second", "survivor").includes("survived the restart"),
    15_000,
    "a line in the second channel",
  );
});
