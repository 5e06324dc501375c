/**
 * The webhook bot under a real control server delivers at least once: a local HTTP receiver
 * that is slow and fails at first, 500 events, the bot host killed with SIGKILL twice mid-way
 * and its whole control server killed once. Every event id arrives, none is skipped, and every
 * copy carries the same Idempotency-Key (the event id).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { closeBus, connectBus, type NatsConnection } from "../../../cluster/connection.js";
import { encodeEvent, makeEvent, subjectOf } from "../../../cluster/envelope.js";
import { silentLogger } from "../../../cluster/logger.js";
import type { NatsServer } from "../../../cluster/nats-server.js";
import { freePort } from "../../../cluster/net.js";
import { ensureStream } from "../../../cluster/stream.js";
import { startServer } from "../../../cluster/servers.js";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import {
  controlYaml,
  held,
  startControl,
  stopControl,
  waitFeeding,
  type ControlProcess,
} from "../../control/harness.js";

const TOTAL = 500;
const dir = tempDir("bustle-webhook-alo-");
let server: NatsServer | undefined;
let nc: NatsConnection | undefined;
let control: ControlProcess | undefined;
const receiver = createServer();
after(async () => {
  if (control) await stopControl(control);
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
  await closeBus(nc).catch(() => {});
  await server?.stop();
  if (!process.env.BUSTLE_KEEP_TEST_DIRS) dir.remove();
});

test("webhook - at least once through two SIGKILLs of the bot host and one of its control server", async () => {
  // The receiver: 10 ms per request, and the first 60 requests fail with 500 (within the bot's 100 attempts).
  let requests = 0;
  const accepted = new Map<string, number>();
  const keys = new Map<string, Set<string>>();
  receiver.on("request", (req, res) => {
    req.resume();
    req.on("end", () => {
      const id = String(req.headers["x-bustle-event-id"]);
      const key = String(req.headers["idempotency-key"]);
      keys.set(id, (keys.get(id) ?? new Set()).add(key));
      const fail = ++requests <= 60;
      setTimeout(() => {
        if (!fail) accepted.set(id, (accepted.get(id) ?? 0) + 1);
        res.writeHead(fail ? 500 : 204);
        res.end();
      }, 10);
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => receiver.listen(port, "127.0.0.1", r));

  server = await startServer(dir.path, "n1");
  nc = await connectBus({ servers: [server.url], name: "webhook-alo-test", logger: silentLogger });
  await ensureStream(nc, {}, silentLogger);
  const config = join(dir.path, "control.yaml");
  writeFileSync(
    config,
    controlYaml({
      node: "town",
      urls: [server.url],
      stateDir: join(dir.path, "state"),
      extra: "supervise: {heartbeat: 1s}\n",
      bots: `  - id: hook\n    type: webhook\n    webhook: {url: "http://127.0.0.1:${port}/in", attempts: 100, backoff: {initial: 20ms, max: 200ms}}\n`,
    }),
  );
  control = startControl(config, join(dir.path, "control.log"));
  await waitFeeding(nc, ["hook"]);

  const js = jetstream(nc);
  const ids: string[] = [];
  for (let i = 0; i < TOTAL; i++) {
    const e = makeEvent({ node: "zia", source: "spool", kind: "update", actor: "alice", text: `~alice event ${i}` });
    ids.push(e.id);
    await js.publish(subjectOf(e), encodeEvent(e), { msgID: e.id });
  }

  const hostPid = async () => (await held(nc!)).find((b) => b.id === "hook" && b.state === "running" && b.feeding)?.pid;
  const killHostAfter = async (n: number) => {
    await waitFor(() => accepted.size >= n, 60_000, `${n} events accepted`);
    const pid = await waitFor(hostPid, 30_000, "the bot host's pid");
    process.kill(pid, "SIGKILL");
    await waitFor(
      async () => {
        const now = await hostPid();
        return now !== undefined && now !== pid;
      },
      30_000,
      "a new bot host reading the stream",
    );
  };
  await killHostAfter(100);
  await killHostAfter(250);

  await waitFor(() => accepted.size >= 380, 60_000, "380 events accepted");
  control.proc.kill("SIGKILL");
  await control.exited;
  control = startControl(config, join(dir.path, "control-2.log"));
  await waitFeeding(nc, ["hook"], 45_000); // after the dead server's lease ran out

  await waitFor(() => ids.every((id) => accepted.has(id)), 90_000, `all ${TOTAL} events accepted`).catch((err) => {
    process.stderr.write(
      `# accepted ${accepted.size}, requests ${requests}, first missing index ${ids.findIndex((id) => !accepted.has(id))}\n`,
    );
    throw err;
  });
  const missing = ids.filter((id) => !accepted.has(id));
  assert.deepEqual(missing, [], "no event skipped");
  for (const [id, set] of keys)
    assert.deepEqual([...set], [id], `every copy of ${id} carries Idempotency-Key = its id`);
  const copies = [...accepted.values()].reduce((a, b) => a + b, 0) - TOTAL;
  process.stderr.write(
    `# webhook at-least-once: ${TOTAL} events, ${copies} accepted twice or more, ${requests} requests\n`,
  );
});
