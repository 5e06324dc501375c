/** The command side of `bustle-control`: ask the control servers over NATS. */
import { PermissionViolationError, type NatsConnection } from "@nats-io/transport-node";
import { BustleError } from "../cluster/errors.js";

import { botSubject, STATUS_SUBJECT, type Command, type CommandReply, type ServerStatus } from "./api.js";
import { cleanReply, cleanServerStatus } from "./wire.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A control command could not be carried out (no holder, refused, timed out). */
export class CommandFailed extends BustleError {}

/** Sends one command to the holder of `id`; the reply is checked and sanitised (control/wire.ts). Rejects with CommandFailed when nobody holds it or it fails. */
export async function sendCommand(
  nc: NatsConnection,
  id: string,
  cmd: Command,
  timeoutMs = 30_000,
): Promise<CommandReply> {
  let raw: string;
  try {
    const m = await nc.request(botSubject(id), enc.encode(JSON.stringify({ cmd })), { timeout: timeoutMs });
    raw = dec.decode(m.data);
  } catch (err) {
    const refused = [err, (err as Error).cause].find((e) => e instanceof PermissionViolationError) as
      | PermissionViolationError
      | undefined;
    if (refused) {
      throw new CommandFailed(
        `NATS refused this credential permission to publish to "${refused.subject}": only the federation's admin and the nodes granted ${id} (bustle-cluster init --bot ${id}=NODE) may steer it`,
        { cause: err },
      );
    }
    const msg = (err as Error).message;
    if (/no responders|503/i.test(msg) || (err as { code?: string }).code === "503") {
      throw new CommandFailed(
        `bot ${id} is not running on any control server right now (is \`bustle-control serve\` running with it in its control.yaml?)`,
      );
    }
    if (/timeout/i.test(msg))
      throw new CommandFailed(`the control server holding ${id} did not answer within ${timeoutMs / 1000} s`);
    throw new CommandFailed(`cannot send ${cmd} to ${id}: ${msg}`, { cause: err });
  }
  let reply: CommandReply | undefined;
  try {
    reply = cleanReply(JSON.parse(raw));
  } catch {
    /* answered below */
  }
  if (!reply) throw new CommandFailed(`the control server holding ${id} sent an unreadable answer`);
  if (!reply.ok) throw new CommandFailed(reply.message);
  return reply;
}

/**
 * Every control server's answer to the status request (each checked and sanitised, control/wire.ts): waits up to `waitMs` for the first, then
 * stops when no further answer has come for `stallMs`.
 */
export async function collectStatus(nc: NatsConnection, waitMs = 2_000, stallMs = 300): Promise<ServerStatus[]> {
  const out: ServerStatus[] = [];
  try {
    const replies = await nc.requestMany(STATUS_SUBJECT, enc.encode("{}"), {
      strategy: "stall",
      maxWait: waitMs,
      stall: stallMs,
    });
    for await (const m of replies) {
      try {
        const s = cleanServerStatus(JSON.parse(dec.decode(m.data)));
        if (s) out.push(s);
      } catch {
        /* one bad answer does not spoil the others */
      }
    }
  } catch (err) {
    if (!/no responders|503/i.test((err as Error).message)) throw err;
  }
  return out;
}
