/**
 * The control commands over NATS request/reply. Every control server answers
 * `bustle.ctl.status` with the bots it holds; the holder of a bot alone answers
 * `bustle.ctl.bot.<id>` (it subscribes when its lease is won and unsubscribes when it is lost).
 * Authorisation is NATS's: only the admin and the control servers of the nodes a bot may run on
 * may publish (or answer) on `bustle.ctl.bot.<id>` (cluster/permissions.ts,
 * docs/control.md); requests are still validated as hostile input.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "../cluster/logger.js";
import { CONTROL_STATUS_SUBJECT, botControlSubject } from "../cluster/names.js";
import type { BotStatus } from "./bot-runner.js";

export const COMMANDS = ["status", "halt", "resume", "reload", "restart", "stop"] as const;
export type Command = (typeof COMMANDS)[number];

export const STATUS_SUBJECT = CONTROL_STATUS_SUBJECT;
export const botSubject = botControlSubject;

export interface CommandReply {
  ok: boolean;
  message: string;
  status?: BotStatus | undefined;
}

/** One control server's answer to `bustle.ctl.status`. */
export interface ServerStatus {
  node: string;
  instance: string;
  bots: BotStatus[];
}

export interface ApiHandler {
  command(id: string, cmd: Command): Promise<CommandReply>;
  statusAll(): ServerStatus;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class ControlApi {
  private readonly subs = new Map<string, Subscription>();
  private statusSub: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly handler: ApiHandler,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.statusSub = this.nc.subscribe(STATUS_SUBJECT, {
      callback: (_err, msg) => {
        if (msg.reply) msg.respond(enc.encode(JSON.stringify(this.handler.statusAll())));
      },
    });
  }

  /** Starts answering commands for a bot this server now holds. */
  serve(id: string): void {
    if (this.subs.has(id)) return;
    this.subs.set(
      id,
      this.nc.subscribe(botSubject(id), {
        callback: (_err, msg) => {
          if (!msg.reply) return;
          let cmd: unknown;
          try {
            cmd = (JSON.parse(dec.decode(msg.data)) as { cmd?: unknown }).cmd;
          } catch {
            /* answered below */
          }
          if (!(COMMANDS as readonly unknown[]).includes(cmd)) {
            this.log.warn("rejected a malformed control request", { subject: msg.subject });
            msg.respond(
              enc.encode(JSON.stringify({ ok: false, message: `unknown command; known: ${COMMANDS.join(", ")}` })),
            );
            return;
          }
          this.log.info("control command", { bot: id, cmd });
          this.handler.command(id, cmd as Command).then(
            (r) => msg.respond(enc.encode(JSON.stringify(r))),
            (err: Error) => msg.respond(enc.encode(JSON.stringify({ ok: false, message: err.message }))),
          );
        },
      }),
    );
  }

  unserve(id: string): void {
    this.subs.get(id)?.unsubscribe();
    this.subs.delete(id);
  }

  stop(): void {
    this.statusSub?.unsubscribe();
    for (const id of [...this.subs.keys()]) this.unserve(id);
  }
}
