/** The bus a bot or client test needs: one JetStream nats-server, a connection, the BUSTLE stream, and events in it. */
import { readdirSync, readFileSync } from "node:fs";
import { jetstream, jetstreamManager, type StoredMsg } from "@nats-io/jetstream";
import { closeBus, connectBus, type NatsConnection } from "../../cluster/connection.js";
import { encodeEvent, makeEvent, subjectOf, type BustleEvent } from "../../cluster/envelope.js";
import { silentLogger } from "../../cluster/logger.js";
import type { NatsServer } from "../../cluster/nats-server.js";
import { ensureStream } from "../../cluster/stream.js";
import { startServer } from "../../cluster/servers.js";
import { waitFor } from "../../cluster/wait-for.js";

export interface Bus {
  server: NatsServer;
  nc: NatsConnection;
  /** Closes the connection and stops the server. */
  close(): Promise<void>;
}

export async function startBus(dir: string, name = "test"): Promise<Bus> {
  const server = await startServer(dir);
  const nc = await connectBus({ servers: [server.url], name, logger: silentLogger });
  await ensureStream(nc, {}, silentLogger);
  return {
    server,
    nc,
    close: async () => {
      await closeBus(nc).catch(() => {});
      await server.stop();
    },
  };
}

/** Publishes an event as a node's spool would (town, alice, an update unless told); resolves with its stream sequence. */
export async function publishEvent(
  nc: NatsConnection,
  init: { node?: string; kind?: string; text: string; actor?: string | null },
): Promise<{ seq: number; event: BustleEvent }> {
  const event = makeEvent({
    node: init.node ?? "town",
    source: "spool",
    kind: init.kind ?? "update",
    actor: init.actor === undefined ? "alice" : init.actor,
    text: init.text,
  });
  const ack = await jetstream(nc).publish(subjectOf(event), encodeEvent(event), { msgID: event.id });
  return { seq: ack.seq, event };
}

/** Every message the BUSTLE stream holds (on `subject`, when given), in stream order. */
export async function storedMessages(nc: NatsConnection, subject?: string): Promise<StoredMsg[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info("BUSTLE", subject ? { subjects_filter: subject } : undefined);
  const out: StoredMsg[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage("BUSTLE", { seq }).catch(() => null);
    if (m && (!subject || m.subject === subject)) out.push(m);
  }
  return out;
}

/** SIGSTOPs the server and waits until every one of its threads is stopped (a signal is not delivered at once). */
export async function hangServer(server: NatsServer): Promise<void> {
  server.signal("SIGSTOP");
  const tasks = `/proc/${server.pid}/task`;
  await waitFor(
    () => readdirSync(tasks).every((t) => / T /.test(readFileSync(`${tasks}/${t}/stat`, "utf8"))),
    5_000,
    "nats-server to be stopped",
    5,
  );
}
