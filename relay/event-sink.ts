import type { BustleEvent } from "../cluster/envelope.js";

/**
 * Where every producer on a node (the spool reader, the ambient watcher) hands its events.
 * The relay's implementation is the durable outbox: `submit` resolves once the events are
 * written to its journal (they survive a crash of the process), `flushed` once everything
 * submitted so far is synced to disk. A producer that records a durable position (a spool
 * offset) writes it only after `flushed`. Events are published in submission order, with
 * their ids.
 */
export interface EventSink {
  submit(events: readonly BustleEvent[]): Promise<void>;
  /** Resolves when every event submitted before the call is on disk (fdatasync). */
  flushed?(): Promise<void>;
}
