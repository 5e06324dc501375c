/**
 * Building a bot's context on a live NATS connection: publishing what the bot brings back (as
 * source = the bot id), formatting with its template, and deciding which events it receives.
 * Used by the bot host process and by bot tests.
 */
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { encodeEvent, makeEvent, subjectOf, type BustleEvent } from "../cluster/envelope.js";
import type { Logger } from "../cluster/logger.js";
import type { BotContext, BotState, CommonBotConfig } from "./bot.js";
import { formatEvent } from "./format.js";

export interface ContextInit<C> {
  node: string;
  common: CommonBotConfig;
  config: C;
  bus: NatsConnection;
  log: Logger;
  stateDir: string;
  report?: (state: BotState, detail?: string) => void;
}

export function createBotContext<C>(init: ContextInit<C>): BotContext<C> {
  const js = jetstream(init.bus);
  const { common } = init;
  return {
    id: common.id,
    node: init.node,
    config: init.config,
    common,
    log: init.log,
    stateDir: init.stateDir,
    bus: init.bus,
    async publish(out) {
      const event = makeEvent({
        node: init.node,
        source: common.id,
        kind: out.kind,
        actor: out.actor === undefined ? common.id : out.actor,
        text: out.text,
        ...(out.data ? { data: out.data } : {}),
      });
      await js.publish(subjectOf(event), encodeEvent(event), { msgID: event.id, timeout: 10_000 });
      return event.id;
    },
    report: init.report ?? (() => {}),
    format: (e) => formatEvent(common.format, e),
  };
}

/** True when `subject` matches a NATS subject filter (`*` one token, `>` the rest). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== "*" && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

/**
 * Whether a bot receives an event: its subject matches one of `subscribe`, its kind is in
 * `kinds` (when given), and it is not the bot's own output (no echo loops).
 */
export function botWants(common: CommonBotConfig, e: BustleEvent): boolean {
  if (e.source === common.id) return false;
  const subject = subjectOf(e);
  if (!common.subscribe.some((f) => subjectMatches(f, subject))) return false;
  return !common.kinds || common.kinds.includes(e.kind);
}
