/**
 * One connectionless request/reply over UDP. Replies count only when they come from the exact
 * address and port that was asked, start with the four 0xff bytes and pass `accept`; everything
 * else (spoofed, stray, malformed) is ignored while waiting. Resolves with the reply's payload
 * after the 0xff prefix, or undefined on timeout. Never rejects for network trouble.
 */
import { createSocket, type RemoteInfo } from "node:dgram";
import { lookup } from "node:dns/promises";
import { isOob, oob } from "./msg.js";

export interface Peer {
  host: string;
  address: string;
  family: 4 | 6;
  port: number;
}

/** The server's address now (it may move between restarts); rejects when the name does not resolve. */
export async function resolvePeer(host: string, port: number): Promise<Peer> {
  const r = await lookup(host);
  return { host, address: r.address, family: r.family === 6 ? 6 : 4, port };
}

/** True when a datagram came from exactly this peer. */
export const fromPeer = (peer: Peer, rinfo: RemoteInfo): boolean =>
  rinfo.address === peer.address && rinfo.port === peer.port;

export interface RequestOptions {
  timeoutMs: number;
  /** Whether a reply (without the 0xff prefix) is the answer; defaults to any. */
  accept?: (payload: Buffer) => boolean;
  /** Counts ignored datagrams (for logs and tests). */
  onIgnored?: (why: string) => void;
}

export function request(peer: Peer, text: string | Buffer, opts: RequestOptions): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(peer.family === 6 ? "udp6" : "udp4");
    let settled = false;
    const done = (v: Buffer | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        socket.close();
      } catch {
        /* already closed */
      }
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), opts.timeoutMs);
    socket.on("error", () => done(undefined));
    socket.on("message", (msg, rinfo) => {
      if (!fromPeer(peer, rinfo)) return opts.onIgnored?.(`reply from ${rinfo.address}:${rinfo.port}, not the server`);
      if (!isOob(msg)) return opts.onIgnored?.("reply without the connectionless prefix");
      const payload = msg.subarray(4);
      if (opts.accept && !opts.accept(payload)) return opts.onIgnored?.("unexpected reply");
      done(payload);
    });
    socket.send(oob(text), peer.port, peer.address, (err) => {
      if (err) done(undefined);
    });
  });
}
