/**
 * The `quakeworld` bot type: watches QuakeWorld servers and talks to them.
 * - Out of the game: each server's status is polled and worthwhile changes become ambient
 *   `game` events; a spectator client joins each server and hears the chat, published as
 *   `game` events (contents only with relay_contents).
 * - Into the game: delivered events whose kind is in say_kinds are said with rcon `say`,
 *   console-safe and shortened, paced per server under sv_rconlim.
 * Servers that are down are retried with backoff; nothing here stops the bot except stop().
 */
import { readSecret } from "../../cluster/config/secrets.js";
import { describeError } from "../../cluster/logger.js";
import { defineBotType, type Bot, type BotContext, type BotOutput } from "../bot.js";
import { ChatEvents, parseChat } from "./chat.js";
import { consoleText } from "./charset.js";
import { QwClient } from "./client.js";
import { checkQuakeworld, quakeworldSchema, serverName, type QuakeworldConfig, type QwServerConfig } from "./config.js";
import { MapChecksums } from "./map-checksum.js";
import { RconSayQueue } from "./rcon.js";
import { StatusWatch } from "./watch.js";

export const GAME_KIND = "game";

interface Link {
  name: string;
  watch: StatusWatch;
  client?: QwClient;
  rcon?: RconSayQueue;
  problems: Map<string, string>;
}

export function createQuakeworldBot(ctx: BotContext<QuakeworldConfig>): Bot {
  const cfg = ctx.config;
  const links: Link[] = [];
  const checksums = new MapChecksums(cfg.maps_dir);
  let started = false;
  let stopped = false;
  let resolveClosed!: (e: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((r) => (resolveClosed = r));

  const publish = (out: BotOutput) => {
    if (stopped) return;
    ctx
      .publish(out)
      .catch((err: unknown) => ctx.log.warn("could not publish a game event", { err: describeError(err) }));
  };

  const reportHealth = () => {
    const problems = links.flatMap((l) => [...l.problems.values()]);
    if (problems.length === 0) ctx.report("connected");
    else ctx.report("degraded", problems.join("; ").slice(0, 400));
  };

  function buildLink(s: QwServerConfig, index: number): Link {
    const name = serverName(s);
    const log = ctx.log.child("qw", { server: name });
    const problems = new Map<string, string>();
    const setProblem = (key: string, problem: string | undefined) => {
      if (problem === undefined) problems.delete(key);
      else problems.set(key, problem);
      reportHealth();
    };
    const link: Link = {
      name,
      problems,
      watch: new StatusWatch({
        host: s.host,
        port: s.port,
        name,
        pollMs: cfg.poll,
        windowMs: cfg.window,
        log,
        onHeadline: (h) => publish({ kind: GAME_KIND, text: h.text, actor: null, data: h.data }),
        onReachable: (up) => setProblem("down", up ? undefined : `${name} is not answering`),
      }),
    };
    const secret = (key: "rcon_password_env" | "spectator_password_env") =>
      readSecret({ env: s[key] }, `quakeworld.servers[${index}].${key}`);
    if (s.rcon_password_env !== undefined) {
      link.rcon = new RconSayQueue({
        host: s.host,
        port: s.port,
        name,
        password: secret("rcon_password_env")!,
        passwordSource: `$${s.rcon_password_env}`,
        intervalMs: cfg.say_interval,
        log,
        onProblem: (p) => setProblem("rcon", p),
      });
    }
    if (cfg.listen) {
      const spectatorPassword = secret("spectator_password_env");
      const chat = new ChatEvents({ server: name, relayContents: cfg.relay_contents, windowMs: cfg.chat_window });
      link.client = new QwClient({
        host: s.host,
        port: s.port,
        name: cfg.spectator_name,
        spectator: true,
        spectatorPassword,
        log,
        mapChecksum: (model) => checksums.forModel(model),
        onState: (state) => {
          if (state === "joined") log.info(`listening on ${name} as spectator ${cfg.spectator_name}`);
        },
        onPrint: (level, text, names) => {
          const line = parseChat(level, text, names.values(), cfg.spectator_name);
          if (!line) return;
          const before = chat.dropped;
          const ev = chat.toEvent(line, Date.now());
          if (ev) publish({ kind: GAME_KIND, text: ev.text, actor: null, data: ev.data });
          else if (chat.dropped > before && (chat.dropped === 1 || chat.dropped % 100 === 0)) {
            log.warn(
              `chat on ${name} is faster than 1 line per 5 s after a burst of 5; ${chat.dropped} line(s) not relayed so far`,
            );
          }
        },
      });
    }
    return link;
  }

  return {
    async start() {
      if (started) return;
      started = true;
      // Secrets are read up front: a missing one is a configuration error, reported by start().
      cfg.servers.forEach((s, i) => links.push(buildLink(s, i)));
      for (const l of links) {
        l.watch.start();
        l.client?.start();
      }
      reportHealth();
    },

    // Confirmed once the line went out to every server (rcon is one attempt, never resent).
    deliver(event, meta) {
      if (!cfg.say_kinds.includes(event.kind)) return;
      const line = consoleText(meta.formatted, cfg.say_max);
      if (!line) return;
      return Promise.all(links.map((l) => l.rcon?.say(line))).then(() => undefined);
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      for (const l of links) {
        l.watch.stop();
        l.rcon?.stop();
      }
      await Promise.all(links.map((l) => l.client?.stop()));
      resolveClosed(undefined);
    },

    closed: () => closed,
  };
}

export const quakeworldBot = defineBotType<QuakeworldConfig>({
  type: "quakeworld",
  schema: quakeworldSchema,
  check: (config) => checkQuakeworld(config),
  create: createQuakeworldBot,
});
