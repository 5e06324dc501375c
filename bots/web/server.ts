/**
 * The portal's HTTP server: routing, timeouts and limits. Each route is a few lines here or a
 * handler of its own (publish.ts, sse.ts); every answer carries the security headers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "../../cluster/logger.js";
import { isKind, isNodeId } from "../../cluster/names.js";
import { renderAtom } from "./atom.js";
import type { History, Query } from "./history.js";
import { applySecurityHeaders, intParam, sendError, sendJson, sendText } from "./http-util.js";
import type { WebMetrics } from "./metrics.js";
import { loadPage, type PageAssets } from "./page-assets.js";
import type { SseHub } from "./sse.js";

export interface ServerDeps {
  bot: string;
  title: string;
  requestTimeoutMs: number;
  history: History;
  hub: SseHub;
  metrics: WebMetrics;
  publish(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Whether the bus connection is usable (for /healthz). */
  busOk(): boolean;
  log: Logger;
}

const MAX_PAGE = 500;

export function createWebServer(d: ServerDeps): Server {
  const page = loadPage(d.title);
  const server = createServer(
    {
      requestTimeout: d.requestTimeoutMs,
      headersTimeout: Math.min(d.requestTimeoutMs, 10_000),
      keepAliveTimeout: 5_000,
      maxHeaderSize: 16_384,
    },
    (req, res) => {
      handle(d, page, req, res).catch((err: unknown) => {
        d.log.error("request failed", { url: req.url?.slice(0, 200), error: err });
        if (!res.headersSent) sendError(res, 500, "internal error");
        else res.destroy();
      });
    },
  );
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  return server;
}

type Route = "page" | "asset" | "events" | "api_events" | "feed" | "publish" | "healthz" | "metrics" | "other";

async function handle(d: ServerDeps, page: PageAssets, req: IncomingMessage, res: ServerResponse): Promise<void> {
  applySecurityHeaders(res);
  let url: URL;
  try {
    url = new URL(req.url ?? "/", "http://portal");
  } catch {
    return sendError(res, 400, "bad request target");
  }
  const method = req.method ?? "GET";
  const get = method === "GET" || method === "HEAD";
  let route: Route = "other";
  res.on("finish", () => d.metrics.countRequest(route, res.statusCode));
  const only = (allowed: string) => {
    res.setHeader("Allow", allowed);
    sendError(res, 405, `use ${allowed}`);
  };

  switch (url.pathname) {
    case "/":
      route = "page";
      return get ? sendText(res, 200, "text/html; charset=utf-8", page.html) : only("GET");
    case "/app.js":
      route = "asset";
      return get ? sendText(res, 200, "text/javascript; charset=utf-8", page.js) : only("GET");
    case "/app.css":
      route = "asset";
      return get ? sendText(res, 200, "text/css; charset=utf-8", page.css) : only("GET");
    case "/favicon.svg":
      route = "asset";
      return get ? sendText(res, 200, "image/svg+xml", page.favicon, "max-age=86400") : only("GET");
    case "/events":
      route = "events";
      if (method !== "GET") return only("GET");
      return openEvents(d, req, res, url);
    case "/api/events":
      route = "api_events";
      return get ? listEvents(d, res, url) : only("GET");
    case "/feed.atom":
      route = "feed";
      return get ? atomFeed(d, res, url) : only("GET");
    case "/api/publish":
      route = "publish";
      return method === "POST" ? d.publish(req, res) : only("POST");
    case "/healthz": {
      route = "healthz";
      if (!get) return only("GET");
      const ok = d.busOk();
      return sendJson(res, ok ? 200 : 503, {
        status: ok ? "ok" : "bus unavailable",
        bot: d.bot,
        clients: d.hub.size,
        last_seq: d.history.lastSeq,
      });
    }
    case "/metrics":
      route = "metrics";
      if (!get) return only("GET");
      return sendText(
        res,
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        d.metrics.render(d.bot, { sseClients: d.hub.size, historyEvents: d.history.size, lastSeq: d.history.lastSeq }),
        "no-store",
      );
    default:
      return sendError(res, 404, "not found");
  }
}

/** node/kind filters shared by the API and the stream; a string naming the bad one, or the filter. */
function filters(url: URL): { node?: string; kind?: string } | string {
  const node = url.searchParams.get("node") ?? undefined;
  const kind = url.searchParams.get("kind") ?? undefined;
  if (node !== undefined && !isNodeId(node)) return "node must be a node id";
  if (kind !== undefined && !isKind(kind)) return "kind must be a kind (lower case letters, digits, dashes)";
  return { ...(node ? { node } : {}), ...(kind ? { kind } : {}) };
}

/** limit/before/since and the filters of /api/events and /feed.atom; a string naming the bad one. */
function pageQuery(url: URL): Query | string {
  const f = filters(url);
  if (typeof f === "string") return f;
  const limit = intParam(url.searchParams.get("limit")) ?? 50;
  const before = intParam(url.searchParams.get("before"));
  const since = intParam(url.searchParams.get("since"));
  if (Number.isNaN(limit) || limit < 1 || limit > MAX_PAGE) return `limit must be an integer 1–${MAX_PAGE}`;
  if (Number.isNaN(before) || Number.isNaN(since)) return "before and since must be stream sequences (integers)";
  return { limit, before, since, ...f };
}

function atomFeed(d: ServerDeps, res: ServerResponse, url: URL): void {
  const q = pageQuery(url);
  if (typeof q === "string") return sendError(res, 400, q);
  const body = renderAtom({
    bot: d.bot,
    title: d.title,
    query: url.search,
    entries: d.history.query(q),
    now: new Date(),
  });
  sendText(res, 200, "application/atom+xml; charset=utf-8", body, "no-store");
}

function listEvents(d: ServerDeps, res: ServerResponse, url: URL): void {
  const q = pageQuery(url);
  if (typeof q === "string") return sendError(res, 400, q);
  const entries = d.history.query(q);
  const body =
    `{"events":[${entries.map((e) => e.json).join(",")}],"last_seq":${d.history.lastSeq}` +
    `,"oldest_seq":${d.history.coveredFrom}}\n`;
  res.writeHead(200, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    // Public data: other sites' pages may read it.
    "Access-Control-Allow-Origin": "*",
  });
  res.end(body);
}

async function openEvents(d: ServerDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const f = filters(url);
  if (typeof f === "string") return sendError(res, 400, f);
  // The browser's own resume header wins over the page's `since` (it is always the newer one).
  const header = req.headers["last-event-id"];
  const since = intParam(typeof header === "string" && header !== "" ? header : url.searchParams.get("since"));
  if (Number.isNaN(since)) return sendError(res, 400, "Last-Event-ID / since must be a stream sequence");
  if (d.hub.full) {
    d.metrics.sseRejected++;
    return sendError(res, 503, "too many live clients; try again soon", { "Retry-After": "10" });
  }
  res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("X-Accel-Buffering", "no");
  res.setHeader("Access-Control-Allow-Origin", "*");
  req.socket.setTimeout(0);
  await d.hub.open(res, f, since);
}
