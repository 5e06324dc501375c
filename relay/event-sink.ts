import type { BustleEvent } from "../cluster/envelope.js";

/**
 * Where every producer on a node (the spool reader, the ambient watcher) hands its events.
 * The relay's implementation is the durable outbox: `submit` resolves once the events are on
 * local disk, so a producer may then advance its own position (a spool offset). Events are
 * published later, in submission order, with their ids.
 */
export interface EventSink {
  submit(events: readonly BustleEvent[]): Promise<void>;
}
