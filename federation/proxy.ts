/**
 * A TCP proxy on 127.0.0.1 that a test can cut and heal, to partition a node from the others on
 * loopback. A cut resets every connection going through it and refuses new ones at once (as a
 * firewall that REJECTs would); a heal lets new connections through again. It never alters data.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { freePort } from "../cluster/net.js";

export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private isCut = false;
  port = 0;

  /** `name` appears in nothing but debugging; `target` is the port on 127.0.0.1 to forward to. */
  constructor(
    readonly name: string,
    readonly target: number,
  ) {}

  /** Listens on a free port (or `port`); resolves with it. The caller calls close(). */
  async start(port?: number): Promise<number> {
    this.port = port ?? (await freePort());
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((res, rej) => {
      server.once("error", rej);
      server.listen(this.port, "127.0.0.1", () => res());
    });
    return this.port;
  }

  private accept(client: Socket): void {
    if (this.isCut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ port: this.target, host: "127.0.0.1" });
    this.sockets.add(client);
    this.sockets.add(upstream);
    const drop = () => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      if (!client.destroyed) client.destroy();
      if (!upstream.destroyed) upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  get cut(): boolean {
    return this.isCut;
  }

  /** Resets every open connection and refuses new ones until heal(). */
  sever(): void {
    this.isCut = true;
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
  }

  heal(): void {
    this.isCut = false;
  }

  async close(): Promise<void> {
    this.sever();
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
  }
}
