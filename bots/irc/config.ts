/**
 * The `irc:` section of an irc bot in control.yaml: its schema, its defaults and the extra
 * checks `bustle-control check` runs (files readable, secrets set). Outbound pacing (`rate`)
 * and the inbound hum (`listen`) live inside the section, so the whole bot is one mapping:
 *
 *   irc:
 *     host: irc.example.org
 *     channels: ["#bustle", {name: "#secret", key_env: SECRET_KEY}]
 *     nick: bustle
 *     rate: {burst: 4, per: 1.5s}
 *     listen: {window: 10m, text: "you hear faint noise in the chat room"}
 */
import { accessSync, constants } from "node:fs";
import {
  INVALID,
  array,
  bool,
  duration,
  int,
  jsonOf,
  object,
  optional,
  refine,
  string,
  type Infer,
  type Schema,
} from "../../cluster/config/schema.js";

const ENV_NAME = string({ pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, describe: "an environment variable name" });
// RFC 2812 nick characters; length is the server's business, 30 covers common networks.
const NICK = string({
  pattern: /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,29}$/,
  describe: "an IRC nick (letters, digits, []\\`_^{|}-, at most 30)",
});
const HOST = string({ pattern: /^[A-Za-z0-9.:-]{1,253}$/, describe: "a host name or IP address" });
const CHANNEL_NAME = /^[#&][^\s,\x00-\x1f\x7f]{1,49}$/;

/** One configured channel, after validation. */
export interface ChannelSpec {
  name: string;
  /** Environment variable holding the channel key (+k), if the channel has one. */
  key_env?: string | undefined;
}

const channelObject = object({
  name: string({ pattern: CHANNEL_NAME, describe: 'a channel name like "#bustle"' }),
  key_env: optional(ENV_NAME),
});

/** `"#bustle"` or `{name: "#secret", key_env: SECRET_KEY}`; keys never sit in the file itself. */
const channel: Schema<ChannelSpec> = {
  expects: 'a channel ("#bustle") or {name, key_env}',
  json: () => ({
    anyOf: [{ type: "string", pattern: CHANNEL_NAME.source.replace(/\\\//g, "/") }, jsonOf(channelObject)],
    description: channel.expects,
  }),
  check(value, path, issues) {
    if (typeof value === "string") {
      if (CHANNEL_NAME.test(value)) return { name: value };
      const hint = /^[#&]\S+\s+\S/.test(value)
        ? '; put a key in an environment variable: {name: "#chan", key_env: VAR}'
        : "";
      issues.report(
        path,
        `must be a channel name starting with # or & (no spaces or commas), got ${JSON.stringify(value)}${hint}`,
      );
      return INVALID;
    }
    return channelObject.check(value, path, issues);
  },
};

const shape = object({
  host: HOST,
  /** Default 6697 with TLS, 6667 without. */
  port: optional(int({ min: 1, max: 65535 })),
  tls: optional(bool(), true),
  tls_verify: optional(bool(), true),
  /** Extra CA bundle (PEM) to trust, e.g. a network's own CA. */
  tls_ca: optional(string({ min: 1 })),
  /** Client certificate and key (PEM), for CertFP. */
  tls_cert: optional(string({ min: 1 })),
  tls_key: optional(string({ min: 1 })),
  nick: NICK,
  username: optional(
    string({ pattern: /^[A-Za-z0-9_.-]{1,10}$/, describe: "an ident of 1–10 letters, digits, _ . -" }),
  ),
  realname: optional(string({ min: 1, max: 100 }), "bustle activity relay"),
  channels: array(channel, { min: 1, max: 20 }),
  /** Server password (PASS). */
  password_env: optional(ENV_NAME),
  sasl: optional(object({ account: string({ min: 1, max: 100 }), password_env: ENV_NAME })),
  /** Nicks whose messages are ignored (other bots). */
  ignore: optional(array(NICK), []),
  /** Put what people said into the ambient events (off by default: only that something was said). */
  relay_contents: optional(bool(), false),
  /** Answer `!bustle` in the channels. */
  commands: optional(bool(), true),
  /** Lines one event may take before it is cut with "…". */
  max_lines: optional(int({ min: 1, max: 10 }), 6),
  quit_message: optional(string({ max: 200 }), "bustle is going quiet"),
  /** Wait before rejoining a channel we were kicked from. */
  rejoin_delay: optional(duration({ min: 1000 }), 30_000),
  rate: optional(
    object({
      burst: optional(int({ min: 1, max: 20 }), 4),
      per: optional(duration({ min: 100 }), 1_500),
      /** Lines that may wait before events are summarised instead. */
      queue: optional(int({ min: 1, max: 1000 }), 12),
    }),
    { burst: 4, per: 1_500, queue: 12 },
  ),
  listen: optional(
    object({
      window: optional(duration({ min: 1000 }), 600_000),
      text: optional(string({ min: 1, max: 200 }), "you hear faint noise in the chat room"),
      /** Used instead of `text` when relay_contents is on: {channel} {nick} {message}. */
      relay_text: optional(string({ min: 1, max: 200 }), "{channel} <{nick}> {message}"),
    }),
    { window: 600_000, text: "you hear faint noise in the chat room", relay_text: "{channel} <{nick}> {message}" },
  ),
});

/** The `irc:` section: shape, defaults and cross-key rules (TLS files only with TLS, no duplicate channels). */
export const ircConfigSchema = refine(shape, (c, report, path) => {
  if (!c.tls) {
    for (const k of ["tls_ca", "tls_cert", "tls_key"] as const)
      if (c[k] !== undefined) report([...path, k], "only makes sense with tls: true");
  }
  if ((c.tls_cert === undefined) !== (c.tls_key === undefined))
    report([...path, c.tls_cert ? "tls_key" : "tls_cert"], "tls_cert and tls_key go together");
  const seen = new Set<string>();
  c.channels.forEach((ch, i) => {
    const k = ch.name.toLowerCase();
    if (seen.has(k)) report([...path, "channels", i], `${ch.name} is listed twice`);
    seen.add(k);
  });
});

export type IrcConfig = Infer<typeof shape>;

/** The port to use: the configured one, or 6697 with TLS / 6667 without. */
export const portOf = (c: IrcConfig): number => c.port ?? (c.tls ? 6697 : 6667);

/** Problems that only show on this machine: unreadable TLS files, unset secret variables. Each starts with its key inside the section ("tls_ca: …"). */
export function checkIrcConfig(c: IrcConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const problems: string[] = [];
  for (const k of ["tls_ca", "tls_cert", "tls_key"] as const) {
    const file = c[k];
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(code ?? err);
      problems.push(`${k}: cannot read ${file} (${why})`);
    }
  }
  const needEnv = (name: string | undefined, key: string) => {
    if (name !== undefined && !env[name]) problems.push(`${key}: environment variable ${name} is not set`);
  };
  needEnv(c.password_env, "password_env");
  needEnv(c.sasl?.password_env, "sasl.password_env");
  c.channels.forEach((ch, i) => needEnv(ch.key_env, `channels[${i}].key_env`));
  return problems;
}
