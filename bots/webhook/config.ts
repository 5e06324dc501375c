/**
 * The `webhook:` section of a `type: webhook` bot: where matching events are POSTed, in which
 * shape, how they are signed, and how hard to try before dropping one.
 */
import {
  duration,
  int,
  object,
  oneOf,
  optional,
  record,
  refine,
  string,
  type Infer,
} from "../../cluster/config/schema.js";

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const HEADER_NAME_RE = /^[A-Za-z0-9-]{1,64}$/;
/** Headers the bot sets itself; a config may not override them. */
const RESERVED =
  /^(content-type|content-length|host|x-bustle-.*|idempotency-key|user-agent|connection|transfer-encoding)$/i;

export const webhookSectionSchema = refine(
  object({
    url: string({ pattern: /^https?:\/\/\S+$/, describe: "an http:// or https:// URL" }),
    /** `json`: the envelope (plus `formatted`); `discord`: `{content}`; `slack`: `{text}`. */
    shape: optional(oneOf(["json", "discord", "slack"] as const), "json"),
    /** The HMAC-SHA256 signing secret, from the environment or a file (never inline). */
    secret_env: optional(string({ pattern: ENV_NAME_RE, describe: "an environment variable name" })),
    secret_file: optional(string({ min: 1 })),
    /** How long one attempt may take. */
    timeout: optional(duration({ min: 100, max: 120_000 }), 10_000),
    /** Events waiting to be sent; beyond this the oldest is dropped (counted and logged). */
    queue: optional(int({ min: 1, max: 1_000_000 }), 1000),
    /** Attempts per event before it is dropped. */
    attempts: optional(int({ min: 1, max: 100 }), 8),
    backoff: optional(
      object({
        initial: optional(duration({ min: 10 }), 1000),
        max: optional(duration({ min: 10 }), 300_000),
      }),
      { initial: 1000, max: 300_000 },
    ),
    /** Extra static headers (e.g. an API key the receiver wants). */
    headers: optional(
      record(string({ max: 1024 }), string({ pattern: HEADER_NAME_RE, describe: "a header name" })),
      {},
    ),
  }),
  (w, report, path) => {
    if (w.secret_env !== undefined && w.secret_file !== undefined)
      report(path, "give at most one of secret_env and secret_file");
    try {
      const u = new URL(w.url);
      if (u.username || u.password)
        report([...path, "url"], "must not contain user:password@ (send credentials with headers instead)");
    } catch {
      report([...path, "url"], "is not a valid URL");
    }
    if (w.backoff.max < w.backoff.initial) report([...path, "backoff", "max"], "must be at least backoff.initial");
    for (const h of Object.keys(w.headers))
      if (RESERVED.test(h)) report([...path, "headers", h], "is set by bustle itself and cannot be overridden");
  },
);

export type WebhookConfig = Infer<typeof webhookSectionSchema>;
