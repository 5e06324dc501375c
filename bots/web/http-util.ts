/**
 * Small HTTP helpers for the portal: the security headers every answer carries, JSON answers,
 * and reading a request body with a hard size limit.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Every response: scripts, styles and connections only from this origin (the page's script is a
 * separate file, so no inline script is ever allowed), no framing, no sniffing, no referrers.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
};

export function applySecurityHeaders(res: ServerResponse): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body) + "\n";
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  status: number,
  error: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error }, headers);
}

/** Static text with a content type; cached briefly (the assets change only with a new version). */
export function sendText(res: ServerResponse, status: number, type: string, text: string, cache = "no-cache"): void {
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(text), "Cache-Control": cache });
  res.end(text);
}

export class BodyTooLarge extends Error {
  override name = "BodyTooLarge";
}

/** Bodies declared or found larger than this are cut off rather than drained. */
const MAX_DRAIN = 1_048_576;

/**
 * Reads the whole body, up to `limit` bytes. Rejects with BodyTooLarge beyond it — after
 * draining up to 1 MiB, so that the client can still read the 413 — and with the socket's
 * error when the client goes away.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? NaN);
    if (declared > MAX_DRAIN) {
      reject(new BodyTooLarge(`body of ${declared} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > MAX_DRAIN) {
        req.pause();
        reject(new BodyTooLarge(`body over ${MAX_DRAIN} bytes`));
      }
    });
    req.on("end", () =>
      size > limit ? reject(new BodyTooLarge(`body of ${size} bytes`)) : resolve(Buffer.concat(chunks)),
    );
    req.on("error", reject);
    req.on("aborted", () => reject(new Error("client went away")));
  });
}

/** The client's address for logs (the socket's peer; proxies' headers are not trusted). */
export const remoteOf = (req: IncomingMessage): string => req.socket.remoteAddress ?? "unknown";

/** A non-negative integer query parameter, `undefined` when absent, NaN when malformed. */
export function intParam(v: string | null): number | undefined {
  if (v === null || v === "") return undefined;
  return /^\d{1,15}$/.test(v) ? Number(v) : NaN;
}
