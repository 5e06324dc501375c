/**
 * JetStream publishing on core NATS publishes: what `js.publish()` does, without its cost per
 * message. Each publish is one `HPUB` with the `Nats-Msg-Id` header and a reply subject under
 * one inbox subscription the publisher holds for its whole life; the stream's reply (a PubAck or
 * the JetStream error JSON) settles it. One timer, armed for the oldest publish still waiting,
 * gives up on the ones without a reply in time. (`js.publish()` makes a request per message: a
 * timer of its own, and a stack-traced `Error` built even for every successful reply.)
 *
 * A publish resolves only once the stream stored the message (or already held one with its id:
 * `duplicate`). It rejects with a StreamPublishError when there is no stream for the subject, the
 * stream refused it, no reply came in time, or the connection was lost or reconnected meanwhile
 * (nats.js drops what it had not yet written when it reconnects, and replies to the old
 * connection are gone): re-publishing under the same id is always safe, the stream's duplicate
 * window drops the copy.
 */
import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { BustleError } from "./errors.js";

/** What the stream says when it stored a message. */
export interface StreamAck {
  stream: string;
  seq: number;
  /** The stream already held a message with this id (within its duplicate window); `seq` is that one's. */
  duplicate: boolean;
}

export type StreamPublishFailure = "no-stream" | "refused" | "timeout" | "connection" | "closed";

/** Why a publish did not settle as stored. Every kind is worth a retry under the same id. */
export class StreamPublishError extends BustleError {
  constructor(
    readonly reason: StreamPublishFailure,
    message: string,
    /** The JetStream API error code, for `refused`. */
    readonly errCode?: number,
  ) {
    super(message);
  }
}

export interface StreamPublisherOptions {
  /** The connection's inbox prefix (a node may receive replies only under its own). */
  inboxPrefix?: string | undefined;
  /** How long a publish waits for its reply. Default 5 s. */
  timeoutMs?: number;
}

/** Publishes into JetStream; build one per connection, `close()` it before the connection. */
export interface StreamPublisher {
  /**
   * Publishes `data` on `subject` with `msgId` as its `Nats-Msg-Id`. Resolves with the stream's
   * acknowledgement; rejects with a StreamPublishError (see the module comment).
   */
  publish(subject: string, data: Uint8Array, msgId: string): Promise<StreamAck>;
  /** Publishes waiting for their reply. */
  readonly inFlight: number;
  /** Unsubscribes and rejects every publish still waiting (`closed`). */
  close(): void;
}

interface Waiting {
  subject: string;
  resolve: (ack: StreamAck) => void;
  reject: (err: StreamPublishError) => void;
  deadline: number;
}

const decoder = new TextDecoder();

export function createStreamPublisher(nc: NatsConnection, opts: StreamPublisherOptions = {}): StreamPublisher {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const inbox = createInbox(opts.inboxPrefix);
  const tokenAt = inbox.length + 1;
  /** In publish order, so deadlines ascend: the first entry is always the next to expire. */
  const waiting = new Map<string, Waiting>();
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const sub: Subscription = nc.subscribe(`${inbox}.*`, {
    callback: (err, msg) => (err ? failAll("connection", err.message) : settle(msg)),
  });
  const status = nc.status();
  void (async () => {
    for await (const s of status) {
      if (s.type === "disconnect" || s.type === "reconnect")
        failAll(
          "connection",
          `connection ${s.type === "disconnect" ? "lost" : "re-established"} before the stream replied`,
        );
    }
  })();

  function settle(msg: Msg): void {
    const token = msg.subject.slice(tokenAt);
    const w = waiting.get(token);
    if (!w) return; // given up on already (timed out, or failed at a reconnect)
    waiting.delete(token);
    const outcome = readReply(msg, w.subject);
    if (outcome instanceof StreamPublishError) w.reject(outcome);
    else w.resolve(outcome);
  }

  function failAll(reason: StreamPublishFailure, message: string): void {
    if (!waiting.size) return;
    const err = new StreamPublishError(reason, message);
    const all = [...waiting.values()];
    waiting.clear();
    for (const w of all) w.reject(err);
  }

  /** Rejects what waited too long, then sleeps until the (new) oldest publish's deadline. */
  function expire(): void {
    timer = undefined;
    const now = Date.now();
    let err: StreamPublishError | undefined;
    for (const [token, w] of waiting) {
      if (w.deadline > now) break;
      waiting.delete(token);
      err ??= new StreamPublishError("timeout", `no reply from the stream within ${timeoutMs} ms`);
      w.reject(err);
    }
    arm();
  }

  function arm(): void {
    if (timer || !waiting.size) return;
    const oldest = waiting.values().next().value as Waiting;
    timer = setTimeout(expire, Math.max(0, oldest.deadline - Date.now()));
  }

  return {
    publish(subject, data, msgId) {
      if (closed) return Promise.reject(new StreamPublishError("closed", "the stream publisher is closed"));
      const token = (next++).toString(36);
      const h = headers();
      h.set("Nats-Msg-Id", msgId);
      return new Promise<StreamAck>((resolve, reject) => {
        // Registered before the publish: a reply cannot overtake it, but a throw must not leave it behind.
        waiting.set(token, { subject, resolve, reject, deadline: Date.now() + timeoutMs });
        try {
          nc.publish(subject, data, { reply: `${inbox}.${token}`, headers: h });
        } catch (err) {
          waiting.delete(token);
          reject(new StreamPublishError("connection", (err as Error).message));
          return;
        }
        arm();
      });
    },
    get inFlight() {
      return waiting.size;
    },
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      // Typed as a plain AsyncIterable; it is nats.js's queued iterator, whose stop() ends the loop.
      (status as { stop?: () => void }).stop?.();
      if (!sub.isClosed()) sub.unsubscribe();
      failAll("closed", "the stream publisher is closed");
    },
  };
}

/** The stream's reply: its PubAck, or why it did not store the message. */
function readReply(msg: Msg, subject: string): StreamAck | StreamPublishError {
  // An empty 503 status: nothing listens on the subject, i.e. no stream takes it.
  if (msg.data.length === 0 && msg.headers?.code === 503)
    return new StreamPublishError("no-stream", `no stream takes subject ${subject}`);
  let reply: {
    stream?: unknown;
    seq?: unknown;
    duplicate?: unknown;
    error?: { err_code?: number; description?: string };
  };
  try {
    reply = JSON.parse(decoder.decode(msg.data)) as typeof reply;
  } catch {
    return new StreamPublishError("refused", "the stream's reply is not JSON");
  }
  if (reply.error)
    return new StreamPublishError(
      "refused",
      `the stream refused the message: ${reply.error.description ?? "no description"}`,
      reply.error.err_code,
    );
  if (typeof reply.stream !== "string" || !reply.stream || typeof reply.seq !== "number")
    return new StreamPublishError("refused", "the stream's reply is no acknowledgement");
  return { stream: reply.stream, seq: reply.seq, duplicate: reply.duplicate === true };
}
