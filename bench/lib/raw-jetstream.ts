/**
 * The raw nats.js baselines the benchmarks compare bustle with: a consumer that appends every
 * message of a stream to a file (as a log writer would), and publishing with a bounded window
 * of unacknowledged messages.
 */
import { open, type FileHandle } from "node:fs/promises";
import { DeliverPolicy, jetstream, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

export interface FileConsumer {
  /** Messages written so far. */
  readonly count: number;
  stop(): Promise<void>;
}

/** Consumes `stream` from its start, appending each message as a line to `path`; `onMsg` sees each. */
export async function consumeToFile(
  nc: NatsConnection,
  stream: string,
  path: string,
  onMsg: (m: JsMsg) => void = () => {},
): Promise<FileConsumer> {
  const out: FileHandle = await open(path, "a");
  let pending: string[] = [];
  let writing: Promise<void> | undefined;
  let count = 0;
  const flush = async () => {
    while (pending.length) {
      const batch = pending;
      pending = [];
      await out.write(batch.join(""));
    }
  };
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const msgs = await consumer.consume({
    max_messages: 1024,
    callback: (m) => {
      pending.push(m.string() + "\n");
      writing ??= flush().finally(() => (writing = undefined));
      count++;
      onMsg(m);
    },
  });
  return {
    get count() {
      return count;
    },
    async stop() {
      msgs.stop();
      while (writing) await writing;
      await out.close();
    },
  };
}

/** Calls `publish(i)` for i in [0, count) with at most `window` unacknowledged at once. */
export async function publishWindowed(
  count: number,
  window: number,
  publish: (i: number) => Promise<unknown>,
): Promise<void> {
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < count; i++) {
    while (inflight.size >= window) await Promise.race(inflight);
    const p = publish(i).finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await Promise.all(inflight);
}
