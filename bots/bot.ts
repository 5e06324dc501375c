/**
 * The one small interface every bot implements, and what its host gives it.
 *
 * A bot type is registered in `registry.ts` as a `BotType`: its YAML `type`, the schema of its
 * own config section (e.g. the `irc:` mapping) and a factory. The host (a child process per bot,
 * started by the control server) validates the config, builds the context, calls `create`,
 * `start`s the bot, then calls `deliver` for every event that matches the bot's `subscribe`
 * and `kinds` — except while the bot is halted. Whatever the bot brings back it hands to
 * `ctx.publish`, which publishes it with `source` = the bot id.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { Schema } from "../cluster/config/schema.js";
import type { BustleEvent } from "../cluster/envelope.js";
import type { Logger } from "../cluster/logger.js";

/** What a bot brings back into bustle. `text` is sanitised by the host; `kind` must match the kind rule. */
export interface BotOutput {
  kind: string;
  text: string;
  /** Defaults to the bot id; `null` for anonymous ambient noise. */
  actor?: string | null;
  data?: Record<string, unknown>;
}

/** A bot's own view of its health, reported to the supervisor (shown by `bustle-control status`). */
export type BotState = "starting" | "connected" | "reconnecting" | "degraded" | "giving-up";

/** Keys every bot has in control.yaml, besides its type section. */
export interface CommonBotConfig {
  id: string;
  type: string;
  enabled: boolean;
  placement?: { node: string } | undefined;
  subscribe: readonly string[];
  kinds?: readonly string[] | undefined;
  format: string;
}

export interface DeliveryMeta {
  /** The event's stream sequence in BUSTLE (monotonic; lets a bot resume or page). */
  seq: number;
  /** The event formatted with the bot's `format` template. */
  formatted: string;
}

export interface BotContext<C> {
  /** The bot id: unique across the federation, the `source` of what it publishes. */
  readonly id: string;
  /** The node whose control server runs this bot. */
  readonly node: string;
  /** The bot's own section (e.g. the `irc:` mapping), validated and frozen. */
  readonly config: C;
  readonly common: CommonBotConfig;
  readonly log: Logger;
  /** A folder of its own that survives restarts on this node. */
  readonly stateDir: string;
  /** The host's NATS connection, for bots that read the stream themselves (history, paging). */
  readonly bus: NatsConnection;
  /**
   * Publishes an event from the bot. Resolves with the event id once JetStream has it;
   * rejects with EnvelopeError for a bad kind and with other errors when NATS is unreachable.
   */
  publish(out: BotOutput): Promise<string>;
  /** Reports a state change to the supervisor. */
  report(state: BotState, detail?: string): void;
  /** The bot's `format` template applied to an event. */
  format(e: BustleEvent): string;
}

export interface Bot {
  /** Connects/binds what it needs. Resolves when ready to deliver; rejects if it cannot start at all. */
  start(): Promise<void>;
  /**
   * One matching event, in stream order. The return value is the bot's confirmation: returning
   * (void) means done now; a promise resolves once the event is delivered or durably queued (a
   * webhook's 2xx, a line written to a socket or a pipe), or once the bot decided to drop it (its
   * own policy, counted and logged). The host calls `deliver` for the next events meanwhile and
   * advances the bot's stream position only over confirmed events, so a host killed at any
   * moment resumes from the first unconfirmed one (delivered at least once). Reject only for
   * events left undone because the bot is stopping. Must not throw for a single bad delivery.
   */
  deliver(event: BustleEvent, meta: DeliveryMeta): void | Promise<void>;
  /** Stops cleanly (QUIT, close servers, flush). Idempotent. */
  stop(): Promise<void>;
  /**
   * Settles when the bot has stopped for good: resolves to undefined after `stop()`, or to the
   * error that killed it (it never rejects), so the host can exit and be restarted.
   */
  closed(): Promise<Error | undefined>;
}

export interface BotType<C> {
  /** The YAML `type` and the name of the bot's own section. */
  readonly type: string;
  readonly schema: Schema<C>;
  /** Extra checks for `bustle-control check` beyond the schema (files exist, secrets set); returns problems. */
  check?(config: C, id: string): string[];
  create(ctx: BotContext<C>): Bot;
}

/** Helper so a bot module can declare its type with inference. */
export const defineBotType = <C>(t: BotType<C>): BotType<C> => t;
