/**
 * What a webhook sends: the body in the configured shape, and the signature headers.
 *
 * Signing (when a secret is set): `X-Bustle-Timestamp` is the Unix time in seconds of the
 * attempt, and `X-Bustle-Signature: sha256=<hex>` is HMAC-SHA256 with the secret over
 * `<timestamp>.<raw body bytes>`. A receiver recomputes it, compares in constant time, and
 * refuses timestamps more than a few minutes old (replays). `X-Bustle-Event-Id` and
 * `Idempotency-Key` carry the event id, the same on every retry, so a receiver can drop copies.
 */
import { createHmac } from "node:crypto";
import { shownEvent, type BustleEvent } from "../../cluster/envelope.js";

export type Shape = "json" | "discord" | "slack";

const DISCORD_MAX = 2000;
const SLACK_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/** The request body for one event. */
export function renderBody(shape: Shape, event: BustleEvent, formatted: string): string {
  switch (shape) {
    case "json":
      // `text` as shown everywhere: a bot's event carries its origin (docs/security.md, Origin).
      return JSON.stringify({ ...shownEvent(event), formatted });
    case "discord":
      // No mention may ping anyone, whatever the text says (@everyone, <@id>).
      return JSON.stringify({
        content: Array.from(formatted).slice(0, DISCORD_MAX).join(""),
        allowed_mentions: { parse: [] },
      });
    case "slack":
      // Slack reads <…> as links and mentions (<!channel>); escaped, the text stays text.
      return JSON.stringify({
        text: formatted.replace(/[&<>]/g, (c) => SLACK_ESCAPES[c]!),
        unfurl_links: false,
        unfurl_media: false,
      });
  }
}

/** `sha256=<hex>` over `<timestamp>.<body>`. */
export function signature(secret: string, timestamp: number, body: string): string {
  return "sha256=" + createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

/** Every header of one attempt. */
export function requestHeaders(
  event: BustleEvent,
  body: string,
  attempt: number,
  secret: string | undefined,
  extra: Readonly<Record<string, string>>,
  now = Date.now(),
): Record<string, string> {
  const headers: Record<string, string> = {
    ...extra,
    "Content-Type": "application/json",
    "User-Agent": "bustle-webhook/1",
    "X-Bustle-Event-Id": event.id,
    "Idempotency-Key": event.id,
    "X-Bustle-Delivery-Attempt": String(attempt),
  };
  if (secret !== undefined) {
    const ts = Math.floor(now / 1000);
    headers["X-Bustle-Timestamp"] = String(ts);
    headers["X-Bustle-Signature"] = signature(secret, ts, body);
  }
  return headers;
}
