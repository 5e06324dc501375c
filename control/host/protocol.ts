/**
 * The typed messages between a control server's supervisor and a bot host child process, over
 * Node's IPC channel. The supervisor sends `init` once, then commands; the host answers with
 * `ready`, periodic `heartbeat`s, the bot's own `state` reports, and an `error` before it exits
 * because of one.
 *
 * Both sides live in control/ (the supervisor in control/bot-process.ts, the host in
 * control/host/host.ts), so this module is the one place the protocol is written; the buckets and
 * keys the host reads and writes are bus names, in cluster/names.ts with the federation's grants.
 */
import type { BusSettings } from "../../cluster/bus-config.js";
import type { BotState, CommonBotConfig } from "../../bots/bot.js";

export interface HostInit {
  t: "init";
  node: string;
  common: CommonBotConfig;
  /** The type's section as written in control.yaml, validated (and defaulted) again by the host with the registry's schema. */
  section: unknown;
  bus: BusSettings;
  stateDir: string;
  /** Absolute path of the module exporting `registry` (tests pass one with fake types). */
  registryModule: string;
  /** Start halted: connected and consuming, delivering nothing. */
  halted: boolean;
  heartbeatMs: number;
  /**
   * The host kills itself (and its process group) at this time (epoch ms) unless a `lease`
   * message moves it: a control server that hangs cannot renew its lease, and its bot must not
   * outlive the lease while another node takes over.
   */
  leaseUntil: number;
}

export type ToHost = HostInit | { t: "halt" } | { t: "resume" } | { t: "stop" } | { t: "lease"; until: number };

export interface HostHeartbeat {
  t: "heartbeat";
  /** Last stream sequence the host consumed (delivered, or skipped while halted). */
  seq: number;
  delivered: number;
  halted: boolean;
  /** True once the feed reads the stream (a bot that never ran gets events published after this). */
  feeding: boolean;
}

export type FromHost =
  | { t: "ready"; seq: number }
  | HostHeartbeat
  | { t: "state"; state: BotState; detail?: string | undefined }
  | { t: "error"; message: string }
  | { t: "halted"; halted: boolean };

const TO_HOST = new Set(["init", "halt", "resume", "stop", "lease"]);
const FROM_HOST = new Set(["ready", "heartbeat", "state", "error", "halted"]);

/** Narrowing for messages arriving over IPC (a buggy peer must not crash the other side). */
export const isToHost = (m: unknown): m is ToHost =>
  typeof m === "object" && m !== null && TO_HOST.has((m as { t?: unknown }).t as string);
export const isFromHost = (m: unknown): m is FromHost =>
  typeof m === "object" && m !== null && FROM_HOST.has((m as { t?: unknown }).t as string);
