/**
 * Answers from other nodes' control servers are hostile input: a member (or whoever holds its
 * control credential) can answer `bustle.ctl.status` or a command with any JSON. Before anything
 * reaches the admin's terminal — the table and `--json` alike (JSON escapes C0 controls but not
 * C1 ones such as U+009B CSI, nor bidi or invisible characters) — every field is checked for its
 * type and every string sanitised; whatever does not fit is dropped.
 */
import { sanitizeText } from "../cluster/text.js";
import type { CommandReply, ServerStatus } from "./api.js";
import type { BotStatus } from "./bot-runner.js";

const MAX_FIELD = 300;

type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown, max = MAX_FIELD): string | undefined =>
  typeof v === "string" ? sanitizeText(v, max).text : undefined;
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === "boolean" ? v : undefined);

/** Drops the keys whose value is undefined (so --json shows what was really there). */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

export function cleanBotStatus(v: unknown): BotStatus | undefined {
  if (!isObj(v)) return undefined;
  const id = str(v.id, 64);
  if (!id) return undefined;
  return defined({
    id,
    type: str(v.type, 64) ?? "?",
    state: (str(v.state, 32) ?? "?") as BotStatus["state"],
    bot: str(v.bot, 32) as BotStatus["bot"],
    detail: str(v.detail),
    halted: bool(v.halted) ?? false,
    node: str(v.node, 64),
    pid: num(v.pid),
    since: str(v.since, 40),
    restarts: num(v.restarts) ?? 0,
    lastError: str(v.lastError),
    seq: num(v.seq),
    delivered: num(v.delivered),
    feeding: bool(v.feeding),
  });
}

export function cleanServerStatus(v: unknown): ServerStatus | undefined {
  if (!isObj(v) || !Array.isArray(v.bots)) return undefined;
  return {
    node: str(v.node, 64) ?? "?",
    instance: str(v.instance, 64) ?? "?",
    bots: v.bots.map(cleanBotStatus).filter((b): b is BotStatus => b !== undefined),
  };
}

export function cleanReply(v: unknown): CommandReply | undefined {
  if (!isObj(v) || typeof v.ok !== "boolean") return undefined;
  const status = v.status === undefined ? undefined : cleanBotStatus(v.status);
  return defined({ ok: v.ok, message: str(v.message, 1000) || (v.ok ? "done" : "refused"), status });
}
