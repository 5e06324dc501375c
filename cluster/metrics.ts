/**
 * Prometheus metrics and health over HTTP, the NATS way: a separate listener, loopback by
 * default, off unless configured (`metrics: {listen: "127.0.0.1:9464"}` in node.yaml or
 * control.yaml). `GET /metrics` is Prometheus text from a prom-client registry; `GET /healthz`
 * is 200 `{"ok":true,…}` when the daemon is doing its job, else 503 with why.
 */
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";
import { ConfigError } from "./errors.js";
import type { Logger } from "./logger.js";

export interface Health {
  ok: boolean;
  [detail: string]: unknown;
}

export interface MetricsServer {
  /** http://host:port of the listener. */
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on `listen`; rejects with a ConfigError (one line) when the address cannot be bound. The caller closes it. */
export async function serveMetrics(opts: {
  listen: string;
  registry: Registry;
  health: () => Health | Promise<Health>;
  log: Logger;
}): Promise<MetricsServer> {
  const at = opts.listen.lastIndexOf(":");
  const host = opts.listen.slice(0, at).replace(/^\[|\]$/g, "");
  const port = Number(opts.listen.slice(at + 1));
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { "content-type": type, "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "method not allowed\n");
    if (path === "/metrics") {
      opts.registry.metrics().then(
        (text) => send(200, opts.registry.contentType, text),
        (err: Error) => {
          opts.log.warn("cannot collect metrics", { error: err });
          send(500, "text/plain", "cannot collect metrics\n");
        },
      );
    } else if (path === "/healthz") {
      Promise.resolve()
        .then(opts.health)
        .then(
          (h) => send(h.ok ? 200 : 503, "application/json", JSON.stringify(h) + "\n"),
          (err: Error) => send(503, "application/json", JSON.stringify({ ok: false, error: err.message }) + "\n"),
        );
    } else send(404, "text/plain", "not found: try /metrics or /healthz\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(`metrics.listen ${opts.listen}: cannot listen (${err.code ?? err.message})`, undefined, {
          cause: err,
        }),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const url =
    typeof addr === "object" && addr
      ? `http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}`
      : `http://${opts.listen}`;
  opts.log.info("serving metrics", { url: `${url}/metrics` });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
