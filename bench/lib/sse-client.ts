/**
 * A minimal Server-Sent Events client on node:http, for the portal's tests and its fan-out
 * benchmark (a thousand of these are cheaper than a thousand fetch streams).
 */
import { get, type ClientRequest } from "node:http";

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

export interface SseClient {
  readonly messages: SseMessage[];
  /** Status of the response, once it arrived. */
  status: number | undefined;
  /** Called for each message as it arrives (the benchmark timestamps here). */
  onMessage?: (m: SseMessage) => void;
  /** Resolves when the response headers arrived; rejects on a connection error. */
  readonly opened: Promise<number>;
  /** Resolves when the server ended the stream or the socket failed. */
  readonly ended: Promise<void>;
  close(): void;
}

export function openSse(url: string, headers: Record<string, string> = {}): SseClient {
  let req: ClientRequest;
  let endedResolve!: () => void;
  const ended = new Promise<void>((r) => (endedResolve = r));
  const client: SseClient = {
    messages: [],
    status: undefined,
    opened: undefined as unknown as Promise<number>,
    ended,
    close: () => req.destroy(),
  };
  (client as { opened: Promise<number> }).opened = new Promise<number>((resolve, reject) => {
    req = get(url, { headers: { Accept: "text/event-stream", ...headers } }, (res) => {
      client.status = res.statusCode;
      resolve(res.statusCode ?? 0);
      res.setEncoding("utf8");
      let buf = "";
      res.on("data", (chunk: string) => {
        buf += chunk;
        let cut: number;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const m: SseMessage = { event: "message", data: "" };
          let hasData = false;
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue;
            const i = line.indexOf(":");
            const field = i < 0 ? line : line.slice(0, i);
            const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
            if (field === "data") {
              m.data += (hasData ? "\n" : "") + value;
              hasData = true;
            } else if (field === "id") m.id = value;
            else if (field === "event") m.event = value;
          }
          if (!hasData) continue;
          client.messages.push(m);
          client.onMessage?.(m);
        }
      });
      res.on("close", endedResolve);
      res.on("error", endedResolve);
    });
    req.on("error", (err) => {
      reject(err);
      endedResolve();
    });
  });
  client.opened.catch(() => {});
  return client;
}

/** The `seq`s and texts of the event messages received so far. */
export const texts = (c: SseClient): string[] =>
  c.messages.filter((m) => m.event === "message").map((m) => (JSON.parse(m.data) as { text: string }).text);
