/**
 * A NATS outage longer than the outbox's bound, end to end: a real bustled and nats-server. With
 * `outbox.max_pending` small, many times that many spool lines (and some ambient activity) are
 * written while the server is down: the outbox never holds more than the bound, the spool
 * offsets stop, the node says once that it is full; once the server is back every line is in
 * bustle.log exactly once, in spool order, and the node says it drained.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../cluster/net.js";
import { startServer } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";
import { sleep, waitFor } from "../../cluster/wait-for.js";
import { RelayProcess, writeRelayConfig } from "../../relay/local-node.js";
import { SAVE_INTERVAL_MS } from "../../relay/spool/offsets-store.js";
import { appendSpool, logLines, makeHome, spoolPath, textOf } from "./support.js";

const BOUND = 40;
const PER_USER = 100; // two users: five times the bound
const USERS = ["alice", "bob"];

/** Events the outbox journal holds unacknowledged (what a restart would load). */
function journalPending(state: string): number {
  const file = join(state, "outbox", "outbox.jsonl");
  if (!existsSync(file)) return 0;
  const ids = new Set<string>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.endsWith("}")) continue; // a record being written
    const rec = JSON.parse(line) as { e?: { id: string }; a?: string[] };
    if (rec.e) ids.add(rec.e.id);
    for (const id of rec.a ?? []) ids.delete(id);
  }
  return ids.size;
}

/** Bytes of each user's spool the relay has read (its saved offsets). */
function offsets(state: string): Record<string, number> {
  const file = join(state, "spool-offsets.json");
  if (!existsSync(file)) return {};
  const { spools } = JSON.parse(readFileSync(file, "utf8")) as { spools: Record<string, { offset: number }> };
  return Object.fromEntries(Object.entries(spools).map(([u, p]) => [u, p.offset]));
}

const said = (daemonLog: string, re: RegExp): string[] =>
  readFileSync(daemonLog, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("{") && re.test((JSON.parse(l) as { msg: string }).msg));

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(15_000) })).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
}

test("outbox - a NATS outage past the bound: spools wait, memory stays bounded, every line arrives once in order", async () => {
  const dir = tempDir("bustle-outage-");
  const server = await startServer(dir.path, "n1");
  const metricsPort = await freePort();
  const files = writeRelayConfig(
    join(dir.path, "town"),
    "town",
    { servers: [server.url] },
    {
      outbox: { max_pending: BOUND },
      ambient: { enabled: true, window: "1s", max_per_minute: 1000 },
      metrics: { listen: `127.0.0.1:${metricsPort}` },
    },
  );
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  for (const u of [...USERS, "carol"]) makeHome(files.homes, u);
  const relay = new RelayProcess(files);
  try {
    await relay.start();
    for (const u of USERS) appendSpool(files.homes, u, [`${u} hello`]);
    await waitFor(() => logLines(files.log).length === 2, 15_000, "the first two lines");

    await server.stop();
    // Numbered lines in several appends, as users would write them, and some ambient activity.
    for (let chunk = 0; chunk < 10; chunk++) {
      for (const u of USERS)
        appendSpool(
          files.homes,
          u,
          Array.from({ length: PER_USER / 10 }, (_, i) => `${u} line ${chunk * (PER_USER / 10) + i + 1}`),
        );
      writeFileSync(join(files.homes, "carol", `note-${chunk}.txt`), "hi\n");
      await sleep(20);
    }
    await waitFor(() => said(files.daemonLog, /^outbox full/).length === 1, 20_000, "the outbox-full warning");
    await waitFor(() => journalPending(files.state) >= BOUND, 10_000, "the journal to reach the bound");

    // The offsets of the lines taken before the bound are saved after the journal's sync, and
    // at most once per SAVE_INTERVAL_MS: on a busy machine that save comes a while after the
    // journal fills. Wait for it (the same offsets twice, three save intervals apart, so a save
    // waiting out its pause cannot fall between them), then nothing more may be taken.
    let stopped = offsets(files.state);
    await waitFor(
      async () => {
        await sleep(3 * SAVE_INTERVAL_MS);
        const now = offsets(files.state);
        const settled = JSON.stringify(now) === JSON.stringify(stopped);
        stopped = now;
        return settled;
      },
      20_000,
      "the offsets of what was taken to be saved",
    );
    // For a while (past a spool rescan and several publish retries): nothing more is taken.
    const until = Date.now() + 2_500;
    while (Date.now() < until) {
      assert.ok(journalPending(files.state) <= BOUND, `journal holds ${journalPending(files.state)} > ${BOUND}`);
      await sleep(100);
    }
    assert.deepEqual(offsets(files.state), stopped, "the spool offsets stay put while the outbox is full");
    const unread = USERS.reduce((n, u) => n + statSync(spoolPath(files.homes, u)).size - (stopped[u] ?? 0), 0);
    assert.ok(unread > 0, "the spools hold the rest, unread");
    assert.ok((await metric(metricsUrl, "bustle_outbox_pending")) <= BOUND);
    assert.equal(await metric(metricsUrl, "bustle_outbox_full"), 1);
    assert.equal(await metric(metricsUrl, "bustle_outbox_max_pending"), BOUND);
    const health = (await (await fetch(`${metricsUrl}/healthz`, { signal: AbortSignal.timeout(15_000) })).json()) as {
      outbox_full?: boolean;
    };
    assert.equal(health.outbox_full, true, "/healthz says the outbox is full");
    assert.equal(said(files.daemonLog, /^outbox full/).length, 1, "the warning is said once");
    assert.match(
      said(files.daemonLog, /^outbox full/)[0]!,
      new RegExp(`outbox full: ${BOUND} events waiting for NATS; spools are read again once it drains`),
    );

    await server.start();
    const own = () => logLines(files.log).map(textOf);
    const spoolText = (u: string) => own().filter((t) => t.startsWith(`~${u} ${u} line `));
    await waitFor(
      () => USERS.every((u) => spoolText(u).length >= PER_USER),
      60_000,
      "every spool line in bustle.log after the server returned",
    );
    await waitFor(() => said(files.daemonLog, /^outbox drained/).length === 1, 10_000, "the drained message");
    for (const u of USERS)
      assert.deepEqual(
        spoolText(u),
        Array.from({ length: PER_USER }, (_, i) => `~${u} ${u} line ${i + 1}`),
        `${u}'s lines exactly once, in spool order`,
      );
    await waitFor(() => own().some((t) => t.startsWith("~carol ")), 10_000, "ambient activity from the outage");
    assert.equal(said(files.daemonLog, /dropped/).length, 0, "nothing was dropped");
    assert.equal(said(files.daemonLog, /^outbox full/).length, 1, "full was said once for the whole outage");
    assert.equal(await metric(metricsUrl, "bustle_outbox_full"), 0);
  } finally {
    await relay.stop();
    await server.stop();
    if (!process.env.KEEP) dir.remove();
    else console.log("kept", dir.path);
  }
});

test("outbox - bustled started during an outage with a spool backlog past the bound connects once NATS is back and delivers it all", async () => {
  const dir = tempDir("bustle-outage-start-");
  const server = await startServer(dir.path, "n1");
  const files = writeRelayConfig(
    join(dir.path, "town"),
    "town",
    { servers: [server.url] },
    { outbox: { max_pending: BOUND } },
  );
  makeHome(files.homes, "dave");
  const relay = new RelayProcess(files);
  try {
    await relay.start();
    appendSpool(files.homes, "dave", ["dave hello"]);
    await waitFor(() => logLines(files.log).length === 1, 15_000, "dave's first line");
    await relay.stop();
    await server.stop();
    const lines = Array.from({ length: 5 * BOUND }, (_, i) => `dave line ${i + 1}`);
    appendSpool(files.homes, "dave", lines);
    await relay.start(false); // NATS is down: its first spool scan meets a full outbox
    await waitFor(() => said(files.daemonLog, /^outbox full/).length === 1, 20_000, "the outbox-full warning");
    assert.ok(journalPending(files.state) <= BOUND, "the journal holds no more than the bound");
    await server.start();
    await waitFor(
      () => logLines(files.log).length === 1 + lines.length,
      60_000,
      "every line of the backlog in bustle.log once NATS is back",
    );
    assert.deepEqual(
      logLines(files.log).slice(1).map(textOf),
      lines.map((l) => `~dave ${l}`),
      "exactly once, in spool order",
    );
  } finally {
    await relay.stop();
    await server.stop();
    dir.remove();
  }
});
