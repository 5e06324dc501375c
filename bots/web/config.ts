/**
 * The `web:` section of a `type: web` bot: where the portal listens, who may publish through it
 * (per-client tokens, each limited to some kinds and a rate), and the bounds that keep one
 * portal from eating its control server (history, clients, body size, timeouts).
 */
import { array, duration, int, object, optional, refine, string, type Infer } from "../../cluster/config/schema.js";
import { KIND_RE } from "../../cluster/names.js";

/** Names become the `actor` of published events, so they follow the envelope's actor rule (minus spaces). */
export const TOKEN_NAME_RE = /^[A-Za-z0-9_.@-]{1,64}$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** `host:port`, `[v6]:port`; the port is range-checked by the refinement below. */
const LISTEN_RE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

export const rateSchema = object({
  /** How many posts may arrive at once. */
  burst: int({ min: 1, max: 100_000 }),
  /** After the burst, one more post per this long (as the irc bot's `rate`). */
  per: duration({ min: 10 }),
});

export const tokenSchema = refine(
  object({
    name: string({
      pattern: TOKEN_NAME_RE,
      describe: "a name of letters, digits, _ . @ - (at most 64); it becomes the events' actor",
    }),
    token_env: optional(string({ pattern: ENV_NAME_RE, describe: "an environment variable name" })),
    token_file: optional(string({ min: 1 })),
    kinds: array(string({ pattern: KIND_RE, describe: 'a kind like "game" (lower case, digits, dashes)' }), { min: 1 }),
    rate: optional(rateSchema, { burst: 10, per: 6_000 }),
  }),
  (t, report, path) => {
    if ((t.token_env === undefined) === (t.token_file === undefined))
      report(path, "needs exactly one of token_env or token_file (the token itself is never written in the config)");
  },
);

export const webSectionSchema = refine(
  object({
    listen: string({ pattern: LISTEN_RE, describe: 'an address like "127.0.0.1:8080"' }),
    /** The page's heading. */
    title: optional(string({ min: 1, max: 80 }), "bustle"),
    tokens: optional(array(tokenSchema), []),
    /** Events kept in memory for the API, the page's first screen and reconnecting clients. */
    history: optional(int({ min: 1, max: 100_000 }), 500),
    /** Concurrent Server-Sent Events clients; more are told 503 and retry later. */
    max_clients: optional(int({ min: 1, max: 100_000 }), 1000),
    /** Largest accepted request body in bytes (a publish is a few hundred). */
    max_body: optional(int({ min: 256, max: 1_048_576 }), 8192),
    /** Time a client has to send a whole request (headers and body). */
    request_timeout: optional(duration({ min: 500, max: 300_000 }), 10_000),
    /** Comment lines that keep idle event streams (and proxies) awake. */
    heartbeat: optional(duration({ min: 1000, max: 300_000 }), 15_000),
  }),
  (w, report, path) => {
    const port = Number(LISTEN_RE.exec(w.listen)?.[2]);
    if (!(port >= 1 && port <= 65535)) report([...path, "listen"], `port must be 1–65535, got ${port}`);
    const seen = new Set<string>();
    w.tokens.forEach((t, i) => {
      if (seen.has(t.name)) report([...path, "tokens", i, "name"], `duplicate token name "${t.name}"`);
      seen.add(t.name);
    });
  },
);

export type WebConfig = Infer<typeof webSectionSchema>;
export type TokenConfig = WebConfig["tokens"][number];

/** Host and port of `listen` (brackets of an IPv6 address removed). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = LISTEN_RE.exec(listen);
  if (!m) throw new Error(`not an address: ${listen}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}
