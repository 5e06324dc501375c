/**
 * The irc bot: bustle's events out to the channels, the channels' hum back in. It wires the
 * connection (which keeps itself up), the paced send queue, the inbound listener and the
 * `!bustle` command together. `halt` is the host not calling `deliver`; the bot stays connected.
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../../cluster/errors.js";
import { readSecret } from "../../cluster/config/secrets.js";
import { describeError } from "../../cluster/logger.js";
import type { BustleEvent } from "../../cluster/envelope.js";
import type { Bot, BotContext, DeliveryMeta } from "../bot.js";
import { Commands } from "./commands.js";
import type { IrcConfig } from "./config.js";
import { IrcConnection, type ConnectionSecrets } from "./connection.js";
import type { BackoffPolicy } from "./policy.js";
import { recentFromStream } from "./history.js";
import { Inbound } from "./inbound.js";
import { renderLines } from "./outbound.js";
import { SendQueue, defaultSummary } from "./send-queue.js";

/** Knobs for tests; production uses the defaults. */
export interface IrcBotTuning {
  backoff?: BackoffPolicy;
  commandCooldownMs?: number;
}

/** Reads every secret and TLS file up front, so a bot that cannot work fails at start. */
export function loadSecrets(c: IrcConfig): ConnectionSecrets {
  const keys = new Map<string, string>();
  c.channels.forEach((ch, i) => {
    const key = readSecret({ env: ch.key_env }, `irc.channels[${i}].key_env`);
    if (key) keys.set(ch.name.toLowerCase(), key);
  });
  const file = (path: string | undefined, key: string): string | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(
        `irc.${key}: cannot read ${path} (${code === "ENOENT" ? "no such file" : (code ?? String(err))})`,
        undefined,
        { cause: err },
      );
    }
  };
  const tls: NonNullable<ConnectionSecrets["tls"]> = {};
  const ca = file(c.tls_ca, "tls_ca");
  const cert = file(c.tls_cert, "tls_cert");
  const key = file(c.tls_key, "tls_key");
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  return {
    password: readSecret({ env: c.password_env }, "irc.password_env"),
    saslPassword: c.sasl ? readSecret({ env: c.sasl.password_env }, "irc.sasl.password_env") : undefined,
    keys,
    tls,
  };
}

/**
 * `start()` rejects only when a secret or TLS file is missing (a config problem); otherwise it
 * resolves at once and the connection comes up in the background, reported through ctx.report.
 * `closed()` resolves after `stop()`; the bot never dies on its own.
 */
export class IrcBot implements Bot {
  private conn: IrcConnection | undefined;
  private queue: SendQueue | undefined;
  private readonly commands: Commands;
  private stopped = false;
  private settle!: (err: Error | undefined) => void;
  private readonly done = new Promise<Error | undefined>((r) => (this.settle = r));

  constructor(
    private readonly ctx: BotContext<IrcConfig>,
    private readonly tuning: IrcBotTuning = {},
  ) {
    this.commands = new Commands({
      ...(tuning.commandCooldownMs !== undefined ? { cooldownMs: tuning.commandCooldownMs } : {}),
    });
  }

  /** Lines waiting in the send queue (for status and tests). */
  get pendingLines(): number {
    return this.queue?.pending ?? 0;
  }

  /** The nick in use now (a fallback while the configured one is taken). */
  get nick(): string {
    return this.conn?.nick ?? this.ctx.config.nick;
  }

  async start(): Promise<void> {
    const { config: c, log } = this.ctx;
    const secrets = loadSecrets(c);
    if (c.tls && !c.tls_verify) log.warn("tls_verify is off: the IRC server's certificate is not checked");
    this.ctx.report("starting");
    const queue = new SendQueue({
      burst: c.rate.burst,
      perMs: c.rate.per,
      capacity: c.rate.queue,
      summary: defaultSummary,
      ready: (target) => this.conn?.isJoined(target) ?? false,
      send: (target, line) => this.conn?.say(target, line),
    });
    this.queue = queue;
    const inbound = new Inbound({
      config: c,
      log: log.child("inbound"),
      publish: (out) => this.ctx.publish(out),
      myNick: () => this.conn?.nick ?? c.nick,
      command: (channel) => this.answer(channel),
    });
    this.conn = new IrcConnection(
      c,
      secrets,
      {
        registered: () => queue.resume(),
        joined: () => queue.resume(),
        disconnected: () => queue.pause(),
        message: (m) => inbound.handle(m),
        state: (s, detail) => this.ctx.report(s, detail),
      },
      log.child("connection"),
      this.tuning.backoff,
    );
    this.conn.start();
    if (c.commands) void recentFromStream(this.ctx, 3).then((texts) => this.commands.preload(texts));
  }

  /** Confirmed once its lines are written to the connection in every channel (or left out by the queue's policy). */
  deliver(event: BustleEvent, meta: DeliveryMeta): Promise<void> | void {
    if (this.stopped || !this.queue) return;
    try {
      const text = meta.formatted || this.ctx.format(event);
      this.commands.remember(text);
      return this.send(text, event.actor ? [event.actor] : []);
    } catch (err) {
      this.ctx.log.warn("could not relay an event", { id: event?.id, error: describeError(err) });
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.queue?.clear();
    try {
      await this.conn?.stop();
    } finally {
      this.settle(undefined);
    }
  }

  closed(): Promise<Error | undefined> {
    return this.done;
  }

  /** Queues `text` for every channel (or `only`); resolves once it is written everywhere. */
  private send(text: string, extraNicks: string[], only?: string): Promise<void> {
    const conn = this.conn!;
    const written: Array<Promise<void>> = [];
    for (const ch of this.ctx.config.channels) {
      if (only && ch.name !== only) continue;
      if (this.queue!.full) {
        this.queue!.skip(ch.name); // under a burst: count it for the summary without rendering it
        continue;
      }
      const prefix = conn.prefix();
      // Budget for the longest nick we may end up with (fallbacks add up to 4 characters).
      const nick = prefix.nick.length >= this.ctx.config.nick.length + 4 ? prefix.nick : this.ctx.config.nick + "0000";
      const lines = renderLines(text, {
        prefix: { ...prefix, nick },
        target: ch.name,
        // Our own nick is left alone: it cannot ping anyone else.
        nicks: [...conn.roster.nicks(ch.name), ...extraNicks].filter(
          (n) => n.toLowerCase() !== conn.nick.toLowerCase(),
        ),
        maxLines: this.ctx.config.max_lines,
      });
      written.push(new Promise<void>((r) => this.queue!.enqueue(ch.name, lines, r)));
    }
    return Promise.all(written).then(() => undefined);
  }

  private answer(channel: string): void {
    const texts = this.commands.answer(channel);
    for (const t of texts ?? []) void this.send(t, [], channel);
  }
}
