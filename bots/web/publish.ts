/**
 * `POST /api/publish`: portals and game servers posting events. Checks, in order: the bearer
 * token (401), the client's rate (429), the body's size (413), its JSON (400), the kind (403 when
 * the token may not publish it); then publishes with `actor` = the token's name and answers 202
 * with the event id. Every refusal is logged with its reason; nothing refused is published.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { BotOutput } from "../bot.js";
import { EnvelopeError } from "../../cluster/errors.js";
import type { Logger } from "../../cluster/logger.js";
import { isKind } from "../../cluster/names.js";
import { safeText } from "../../cluster/text.js";
import { BodyTooLarge, readBody, remoteOf, sendError, sendJson } from "./http-util.js";
import type { PublishResult, WebMetrics } from "./metrics.js";
import { bearerToken, type Client, type TokenTable } from "./tokens.js";

export interface PublishDeps {
  tokens: TokenTable;
  maxBody: number;
  publish(out: BotOutput): Promise<string>;
  metrics: WebMetrics;
  log: Logger;
}

/** Logs each kind of refusal at most once per 10 s per client, so a flood cannot flood the log. */
class QuietLog {
  private readonly last = new Map<string, { at: number; skipped: number }>();
  constructor(private readonly log: Logger) {}
  refuse(reason: PublishResult, detail: string, fields: Record<string, unknown>): void {
    const key = `${reason} ${fields.client ?? fields.remote}`;
    const now = Date.now();
    const prev = this.last.get(key);
    if (prev && now - prev.at < 10_000) {
      prev.skipped++;
      return;
    }
    if (this.last.size > 10_000) this.last.clear();
    this.last.set(key, { at: now, skipped: 0 });
    this.log.warn(`publish refused: ${detail}`, {
      reason,
      ...fields,
      ...(prev?.skipped ? { similar_refusals_not_logged: prev.skipped } : {}),
    });
  }
}

export function publishHandler(d: PublishDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const quiet = new QuietLog(d.log);
  return async (req, res) => {
    const remote = remoteOf(req);
    let client: Client | undefined;
    const refuse = (status: number, result: PublishResult, message: string, headers: Record<string, string> = {}) => {
      d.metrics.countPublish(result);
      // A body we will not read is drained only when small; otherwise the connection is closed.
      if (!req.complete && !(Number(req.headers["content-length"]) <= d.maxBody))
        headers = { ...headers, Connection: "close" };
      quiet.refuse(result, message, { remote, ...(client ? { client: client.name } : {}) });
      sendError(res, status, message, headers);
      req.resume();
    };

    const token = bearerToken(req.headers.authorization);
    client = token === undefined ? undefined : d.tokens.identify(token);
    if (!client) {
      return refuse(401, "unauthorized", token === undefined ? "missing bearer token" : "unknown token", {
        "WWW-Authenticate": 'Bearer realm="bustle"',
      });
    }
    if (!client.bucket.take()) {
      return refuse(429, "rate_limited", `over the rate for ${client.name}`, {
        "Retry-After": String(client.bucket.retryAfterSeconds()),
      });
    }
    let body: Buffer;
    try {
      body = await readBody(req, d.maxBody);
    } catch (err) {
      if (err instanceof BodyTooLarge) return refuse(413, "too_large", `body larger than ${d.maxBody} bytes`);
      return; // the client went away; there is no one to answer
    }
    let input: unknown;
    try {
      input = JSON.parse(body.toString("utf8"));
    } catch {
      return refuse(400, "bad_request", "body is not JSON");
    }
    if (typeof input !== "object" || input === null || Array.isArray(input))
      return refuse(400, "bad_request", 'body must be a JSON object {"kind":…,"text":…}');
    const { kind, text } = input as Record<string, unknown>;
    if (typeof kind !== "string" || !isKind(kind))
      return refuse(400, "bad_request", "kind must be a string of lower case letters, digits and dashes (at most 32)");
    if (typeof text !== "string" || safeText(text) === "")
      return refuse(400, "bad_request", "text must be a non-empty string");
    if (!client.kinds.has(kind)) return refuse(403, "forbidden", `token ${client.name} may not publish kind ${kind}`);

    try {
      const id = await d.publish({ kind, text, actor: client.name });
      d.metrics.countPublish("accepted");
      d.log.info("published for a client", { client: client.name, remote, kind, id });
      sendJson(res, 202, { id });
    } catch (err) {
      if (err instanceof EnvelopeError) return refuse(400, "bad_request", err.message);
      d.metrics.countPublish("unavailable");
      d.log.error("could not publish for a client", { client: client.name, error: err });
      sendError(res, 503, "the bus is unavailable; try again later", { "Retry-After": "5" });
    }
  };
}
