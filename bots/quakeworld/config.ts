/**
 * The `quakeworld:` section of a bot: which game servers to watch and talk to, how often to
 * poll them, what goes into the game and what comes out. Defaults live next to the schema.
 */
import { statSync } from "node:fs";
import {
  array,
  bool,
  duration,
  int,
  object,
  optional,
  refine,
  string,
  type Infer,
} from "../../cluster/config/schema.js";
import { KIND_RE } from "../../cluster/names.js";

const envName = string({ pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, describe: "an environment variable name" });

export const QW_DEFAULTS = {
  port: 27500,
  poll_ms: 10_000,
  window_ms: 600_000,
  say_kinds: ["shout"],
  say_max: 100,
  say_interval_ms: 1_100,
  relay_contents: false,
  chat_window_ms: 600_000,
  spectator_name: "bustle",
} as const;

/** sv_rconlim refuses two rcon packets within a second; one every 1.05 s was never refused. */
export const MIN_SAY_INTERVAL_MS = 1_050;

const serverSchema = object({
  host: string({ min: 1, max: 253, pattern: /^[A-Za-z0-9.:_-]+$/, describe: "a host name or IP address" }),
  port: optional(int({ min: 1, max: 65_535 }), QW_DEFAULTS.port),
  /** What events call the server ("qw.example"); defaults to host:port. */
  name: optional(string({ min: 1, max: 40, pattern: /^[\x21-\x7e][\x20-\x7e]*$/, describe: "a short printable name" })),
  /** Where the rcon password is; without it the server is only watched, nothing is said in it. */
  rcon_password_env: optional(envName),
  /** Where the spectator password is, for servers that set one. */
  spectator_password_env: optional(envName),
});

export const quakeworldSchema = refine(
  object({
    servers: array(serverSchema, { min: 1, max: 32 }),
    /** How often each server's status is asked for. */
    poll: optional(duration({ min: 200, max: 3_600_000 }), QW_DEFAULTS.poll_ms),
    /** At most one status line per server per window (changes in between are coalesced). */
    window: optional(duration({ min: 0, max: 86_400_000 }), QW_DEFAULTS.window_ms),
    /** Event kinds said in the game with rcon `say` (of those the bot receives). */
    say_kinds: optional(array(string({ pattern: KIND_RE, describe: 'an event kind like "shout"' })), () => [
      ...QW_DEFAULTS.say_kinds,
    ]),
    /** Longest line said in the game, in characters. */
    say_max: optional(int({ min: 20, max: 200 }), QW_DEFAULTS.say_max),
    /** Gap between rcon packets to one server; at least 1.05 s (the server's sv_rconlim). */
    say_interval: optional(duration({ min: MIN_SAY_INTERVAL_MS, max: 60_000 }), QW_DEFAULTS.say_interval_ms),
    /** Join each server as a spectator to hear the chat. */
    listen: optional(bool(), true),
    /** Put what players say into events; otherwise only "people are chatting on X", once per chat_window. */
    relay_contents: optional(bool(), QW_DEFAULTS.relay_contents),
    chat_window: optional(duration({ min: 0, max: 86_400_000 }), QW_DEFAULTS.chat_window_ms),
    /**
     * A folder with the servers' maps (dm4.bsp, …): servers with sv_mapcheck 1 only let in clients
     * that prove they have the map, spectators too.
     */
    maps_dir: optional(string({ min: 1 })),
    /** The spectator's name in the game. */
    spectator_name: optional(
      string({ min: 1, max: 24, pattern: /^[A-Za-z0-9_.\-[\]()]+$/, describe: "a plain name" }),
      QW_DEFAULTS.spectator_name,
    ),
  }),
  (c, report, path) => {
    const seen = new Set<string>();
    c.servers.forEach((s, i) => {
      const key = `${s.host}:${s.port}`;
      if (seen.has(key)) report([...path, "servers", i], `${key} is listed twice`);
      seen.add(key);
    });
  },
);

export type QuakeworldConfig = Infer<typeof quakeworldSchema>;
export type QwServerConfig = QuakeworldConfig["servers"][number];

/** The name events use for a server. */
export const serverName = (s: QwServerConfig): string => s.name ?? `${s.host}:${s.port}`;

/** An rcon password the server's tokenizer would split or misread cannot be sent safely. */
export const RCON_PASSWORD_RE = /^[\x21-\x7e]+$/;

/** Problems for `bustle-control check`: each named secret is set and usable. */
export function checkQuakeworld(config: QuakeworldConfig): string[] {
  const problems: string[] = [];
  if (config.maps_dir !== undefined && !isDirectory(config.maps_dir))
    problems.push(`maps_dir: ${config.maps_dir} is not a readable folder`);
  config.servers.forEach((s, i) => {
    for (const key of ["rcon_password_env", "spectator_password_env"] as const) {
      const env = s[key];
      if (env === undefined) continue;
      const v = process.env[env];
      if (v === undefined || v === "")
        problems.push(`servers[${i}].${key}: environment variable ${env} is not set (needed for ${serverName(s)})`);
      else if (!RCON_PASSWORD_RE.test(v) || /[;"\\$]/.test(v))
        problems.push(
          `servers[${i}].${key}: the password in ${env} has spaces, quotes, ';', '$' or '\\', which the game server's console would misread`,
        );
    }
  });
  return problems;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
