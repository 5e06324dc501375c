/**
 * A QuakeWorld client that joins a server (as a spectator for the bridge, as a player in tests)
 * and stays: challenge → connect → the netchan join sequence (new, soundlist, modellist,
 * prespawn, spawn, begin) → a small packet every `keepaliveMs` so the server keeps sending.
 * What it hears comes out through `onPrint`. When the server goes quiet (crash, restart,
 * network) or drops it, it rejoins with exponential backoff, forever, until `stop()`.
 */
import { createSocket, type Socket } from "node:dgram";
import type { Logger } from "../../cluster/logger.js";
import { wakeableSleep } from "../../cluster/wait-for.js";
import { MsgWriter, isOob, oob } from "./msg.js";
import { Netchan } from "./netchan.js";
import { JoinSequence } from "./join.js";
import { parseServerMessages } from "./svc.js";
import { fromPeer, request, resolvePeer, type Peer } from "./udp.js";

const PROTOCOL_VERSION = 28;
const CLC_STRINGCMD = 4;

export interface QwClientOptions {
  host: string;
  port: number;
  /** The client's name as raw Quake-charset bytes (one character per byte); `\` and `"` are removed. */
  name: string;
  spectator: boolean;
  /** Needed when the server sets a spectator password. */
  spectatorPassword?: string | undefined;
  log: Logger;
  keepaliveMs?: number;
  /** No packet from the server for this long means the connection is gone. */
  silenceMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Every svc_print: level and raw text, with the raw names of the clients now on the server. */
  onPrint?: (level: number, text: Buffer, names: ReadonlyMap<number, string>) => void;
  /**
   * The map checksum to prove we have the server's map (for sv_mapcheck 1), given the map's
   * model path ("maps/dm4.bsp"); undefined sends 0, which servers without the check accept.
   */
  mapChecksum?: (modelPath: string) => Promise<number | undefined>;
  /** Joined (fully spawned) or lost. */
  onState?: (state: "joined" | "lost", detail: string) => void;
}

type SessionEnd = { joined: boolean; why: string };

export class QwClient {
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private endSession: ((end: SessionEnd) => void) | undefined;
  private socket: Socket | undefined;
  private chan: Netchan | undefined;
  private peer: Peer | undefined;
  private mapcheckWarned = false;
  private joinedNow = false;
  private readonly keepaliveMs: number;
  private readonly silenceMs: number;
  private readonly backoff: { initialMs: number; maxMs: number };
  /** Ignored datagrams (spoofed, stale, malformed), for tests and debugging. */
  ignored = 0;

  constructor(private readonly opts: QwClientOptions) {
    this.keepaliveMs = opts.keepaliveMs ?? 200;
    this.silenceMs = opts.silenceMs ?? 8_000;
    this.backoff = opts.backoff ?? { initialMs: 1_000, maxMs: 60_000 };
  }

  get joined(): boolean {
    return this.joinedNow;
  }

  /** Starts joining in the background; never throws. */
  start(): void {
    this.running ??= this.loop();
  }

  /** Leaves the server (a `drop` command) and stops for good. */
  async stop(): Promise<void> {
    this.stopped = true;
    // Unreliable and repeated: the reliable channel may be busy, and we will not wait for an ack.
    if (this.chan && this.socket && this.peer) {
      for (let i = 0; i < 3; i++) this.transmit(new MsgWriter().byte(CLC_STRINGCMD).string("drop").toBuffer());
      await new Promise((r) => setTimeout(r, 50)); // let the datagrams leave before the socket closes
    }
    this.endSession?.({ joined: this.joinedNow, why: "stopped" });
    this.wake?.();
    await this.running;
  }

  /** Sends a chat line as this client (player mode, tests). `text` is raw bytes as latin1. */
  say(text: string): boolean {
    return this.command(`say ${text}`);
  }

  /** Queues a client command on the reliable channel. False when not connected or backlogged. */
  command(text: string): boolean {
    if (!this.chan) return false;
    return this.chan.queueReliable(new MsgWriter().byte(CLC_STRINGCMD).string(text).toBuffer());
  }

  private async loop(): Promise<void> {
    let delay = this.backoff.initialMs;
    let failing = false;
    const where = `${this.opts.host}:${this.opts.port}`;
    while (!this.stopped) {
      const end = await this.session().catch((err: unknown): SessionEnd => ({ joined: false, why: String(err) }));
      if (this.stopped) break;
      if (end.joined) {
        delay = this.backoff.initialMs;
        failing = false;
        this.opts.onState?.("lost", end.why);
        this.opts.log.warn(`lost ${where}: ${end.why}; rejoining`);
      } else if (!failing) {
        failing = true;
        this.opts.log.warn(
          `cannot join ${where}: ${end.why}; retrying with backoff up to ${Math.round(this.backoff.maxMs / 1000)}s`,
        );
      } else {
        this.opts.log.debug(`still cannot join ${where}: ${end.why}`);
      }
      const wait = Math.round(delay * (0.8 + Math.random() * 0.4));
      const pause = wakeableSleep(wait);
      this.wake = pause.wake;
      await pause.done;
      this.wake = undefined;
      if (!end.joined) delay = Math.min(this.backoff.maxMs, delay * 2);
    }
  }

  private userinfo(): string {
    const clean = (s: string) => s.replace(/[\\"\0\n\r;]/g, "").slice(0, 31) || "bustle";
    // A modest rate (bytes/s the server sends us) and msg 2: chat and important notices, no obituaries.
    const pairs: Array<[string, string]> = [
      ["name", clean(this.opts.name)],
      ["topcolor", "0"],
      ["bottomcolor", "0"],
      ["rate", "5000"],
      ["msg", "2"],
    ];
    if (this.opts.spectator)
      pairs.push(["spectator", this.opts.spectatorPassword ? clean(this.opts.spectatorPassword) : "1"]);
    return pairs.map(([k, v]) => `\\${k}\\${v}`).join("");
  }

  /** One connection: handshake, join, stay. Resolves when it ends; never rejects on purpose. */
  private async session(): Promise<SessionEnd> {
    this.joinedNow = false;
    const peer = await resolvePeer(this.opts.host, this.opts.port).catch(() => undefined);
    if (!peer) return { joined: false, why: `cannot resolve ${this.opts.host}` };
    this.peer = peer;
    const challengeReply = await this.ask(
      peer,
      "getchallenge\n",
      (p) => p[0] === 0x63 /* c */ || p[0] === 0x6e /* n */,
    );
    if (!challengeReply) return { joined: false, why: "no answer to getchallenge" };
    if (challengeReply[0] === 0x6e) return { joined: false, why: `refused: ${printable(challengeReply.subarray(1))}` };
    const challenge = /^-?\d+/.exec(challengeReply.subarray(1).toString("latin1"))?.[0];
    if (challenge === undefined) return { joined: false, why: "malformed challenge" };
    const qport = 1 + Math.floor(Math.random() * 65_000);
    const socket = createSocket(peer.family === 6 ? "udp6" : "udp4");
    this.socket = socket;
    try {
      const accepted = await this.connect(
        socket,
        peer,
        `connect ${PROTOCOL_VERSION} ${qport} ${challenge} "${this.userinfo()}"\n`,
      );
      if (accepted !== true) return { joined: false, why: accepted };
      this.chan = new Netchan(qport);
      const join = new JoinSequence({
        command: (text) => this.command(text),
        oob: (text) => socket.send(oob(text), peer.port, peer.address, () => {}),
        print: this.opts.onPrint,
        mapChecksum: this.opts.mapChecksum,
        onMapRefused: (model) => {
          if (this.mapcheckWarned) return;
          this.mapcheckWarned = true;
          this.opts.log.error(
            `${this.opts.host}:${this.opts.port} checks maps (sv_mapcheck 1) and refused ours for ${model ?? "its map"}: put the server's .bsp files in quakeworld.maps_dir`,
          );
        },
        log: this.opts.log,
      });
      join.start();
      return await this.stay(socket, peer, join);
    } finally {
      this.chan = undefined;
      this.joinedNow = false;
      socket.close();
      this.socket = undefined;
    }
  }

  private async ask(peer: Peer, text: string, accept: (p: Buffer) => boolean): Promise<Buffer | undefined> {
    for (let i = 0; i < 3 && !this.stopped; i++) {
      const reply = await request(peer, text, { timeoutMs: 1_500, accept, onIgnored: () => this.ignored++ });
      if (reply) return reply;
    }
    return undefined;
  }

  /** Sends `connect` from the socket the session will use; true when the server said `j`. */
  private connect(socket: Socket, peer: Peer, text: string): Promise<true | string> {
    return new Promise((resolve) => {
      let tries = 0;
      const finish = (v: true | string) => {
        clearInterval(timer);
        socket.removeListener("message", onMessage);
        resolve(v);
      };
      const onMessage = (msg: Buffer, rinfo: import("node:dgram").RemoteInfo) => {
        if (!fromPeer(peer, rinfo) || !isOob(msg)) return void this.ignored++;
        if (msg[4] === 0x6a /* j */) finish(true);
        else if (msg[4] === 0x6e /* n */) finish(`refused: ${printable(msg.subarray(5))}`);
        else this.ignored++;
      };
      const send = () => {
        if (this.stopped) return finish("stopped");
        if (tries++ >= 3) return finish("no answer to connect");
        this.opts.log.debug("sending connect", { tries });
        socket.send(oob(text), peer.port, peer.address, () => {});
      };
      socket.on("message", onMessage);
      socket.on("error", () => {});
      const timer = setInterval(send, 1_500);
      send();
    });
  }

  private stay(socket: Socket, peer: Peer, join: JoinSequence): Promise<SessionEnd> {
    return new Promise((resolve) => {
      let lastHeard = Date.now();
      let joined = false;
      const finish = (end: SessionEnd) => {
        clearInterval(timer);
        socket.removeAllListeners("message");
        this.endSession = undefined;
        resolve({ ...end, joined: joined || end.joined });
      };
      this.endSession = finish;
      socket.on("message", (msg, rinfo) => {
        if (!fromPeer(peer, rinfo)) return void this.ignored++;
        if (isOob(msg)) return void this.ignored++;
        const payload = this.chan?.process(msg);
        if (!payload) return void this.ignored++;
        lastHeard = Date.now();
        let parsed: ReturnType<typeof parseServerMessages>;
        try {
          parsed = parseServerMessages(payload);
        } catch (err) {
          // A bug in the parser must cost one packet, never the bot.
          this.opts.log.warn("could not read a packet from the server", { err: String(err) });
          return;
        }
        const { messages, error } = parsed;
        if (error) this.opts.log.debug("stopped reading a packet", { error, kinds: messages.map((m) => m.type) });
        for (const m of messages) {
          const r = join.handle(m);
          if (r === "left") this.joinedNow = false;
          else if (r === "joined") {
            this.joinedNow = true;
            if (!joined) this.opts.onState?.("joined", `${peer.host}:${peer.port}`);
            joined = true;
          } else if (r === "disconnect") {
            return finish({ joined, why: "the server disconnected us" });
          }
        }
      });
      const timer = setInterval(() => {
        if (this.stopped) return finish({ joined, why: "stopped" });
        if (Date.now() - lastHeard > this.silenceMs)
          return finish({ joined, why: `no packets for ${Math.round(this.silenceMs / 1000)}s` });
        this.transmit();
      }, this.keepaliveMs);
      this.transmit();
    });
  }

  private transmit(unreliable?: Buffer): void {
    if (!this.chan || !this.socket || !this.peer) return;
    this.socket.send(this.chan.transmit(unreliable), this.peer.port, this.peer.address, () => {});
  }
}

const printable = (b: Buffer): string =>
  b
    .toString("latin1")
    .replace(/[^\x20-\x7e]+/g, " ")
    .trim()
    .slice(0, 120);
