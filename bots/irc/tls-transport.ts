/**
 * irc-framework's TCP/TLS transport with one addition: TLS options it does not pass on (a CA
 * bundle to trust, e.g. a network's own CA or a test CA). It overrides only `connect()` for TLS
 * connections and otherwise leaves the library's transport as it is; written against
 * irc-framework 4.14 (`src/transports/net.js`), whose socket set-up it calls.
 */
import { createRequire } from "node:module";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { isIP } from "node:net";

const require = createRequire(import.meta.url);

interface NetTransportInternals {
  options: { host: string; port: number; tls?: boolean; encoding?: string };
  socket: unknown;
  state: number;
  requested_disconnect: boolean;
  incoming_buffer: Buffer;
  connect(): void;
  disposeSocket(): void;
  setEncoding(enc: string): boolean;
  debugOut(msg: string): void;
  _onSocketCreate(options: unknown, socket: unknown): void;
}
type TransportClass = new (options: unknown) => NetTransportInternals;

const SOCK_CONNECTING = 1;

/** A transport class for irc-framework's `transport` option that adds `tls` to every TLS connect. */
export function transportWithTls(
  extra: Pick<ConnectionOptions, "ca" | "cert" | "key" | "rejectUnauthorized">,
): TransportClass {
  const Base = require("irc-framework/src/transports/net.js") as TransportClass;
  return class TlsTransport extends Base {
    override connect(): void {
      const o = this.options;
      if (!o.tls) return super.connect();
      this.debugOut("connect() with bustle TLS options");
      this.disposeSocket();
      this.requested_disconnect = false;
      this.incoming_buffer = Buffer.from("");
      this.setEncoding(o.encoding ?? "utf8");
      this.state = SOCK_CONNECTING;
      const socket = tlsConnect({
        host: o.host,
        port: o.port,
        // SNI only for names, as the library does.
        ...(isIP(o.host) ? {} : { servername: o.host }),
        ...extra,
      });
      this.socket = socket;
      this._onSocketCreate(o, socket);
    }
  };
}
