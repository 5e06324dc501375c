/**
 * A real InspIRCd on 127.0.0.1 for tests and benchmarks: our own config (Debian's allows only
 * three connections per IP), flood kill on (`fakelag="no"`: a flooding client is disconnected
 * with "Excess Flood"), optional TLS, started in the foreground and stopped by its pid.
 */
import { isRunning, stopChild } from "../../../cluster/child.js";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, isListening } from "../../../cluster/net.js";
import { waitFor } from "../../../cluster/wait-for.js";

/** Where the server lives and whether it also listens with TLS. */
export interface IrcdOptions {
  /** A folder of its own (config, log). */
  dir: string;
  /** TLS certificate and key (PEM files) for a second, TLS port. */
  tls?: { cert: string; key: string };
}

/** The config file text: one plain client port on 127.0.0.1, optionally one TLS port. */
export function renderInspircdConf(o: { dir: string; port: number; tlsPort?: number | undefined; tls?: IrcdOptions["tls"] }): string {
  const lines = [
    `<server name="irc.bustle.test" description="bustle test server" network="BustleTest">`,
    `<admin name="bustle" nick="bustle" email="bustle@example.invalid">`,
    `<bind address="127.0.0.1" port="${o.port}" type="clients">`,
    // threshold/commandrate as in IRC-NOTES: a client that sends faster than the server allows is
    // disconnected ("Excess Flood") rather than slowed down.
    `<connect allow="*" maxchans="20" localmax="100" globalmax="100" threshold="10" commandrate="1000" fakelag="no" resolvehostnames="no" useident="no" pingfreq="120" timeout="20" limit="1000">`,
    `<dns timeout="1">`,
    `<limits maxnick="30" maxchan="64" maxquit="255">`,
    `<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="${join(o.dir, "ircd.log")}">`,
    `<security hidesplits="no">`,
  ];
  if (o.tls && o.tlsPort) {
    lines.push(
      `<module name="ssl_gnutls">`,
      `<sslprofile name="bustle" provider="gnutls" certfile="${o.tls.cert}" keyfile="${o.tls.key}" requestclientcert="no">`,
      `<bind address="127.0.0.1" port="${o.tlsPort}" type="clients" sslprofile="bustle">`,
    );
  }
  return lines.join("\n") + "\n";
}

/** `prepare()` then `start()`; the test calls `stop()` in its `after` hook. */
export class TestIrcd {
  private child: ChildProcess | undefined;
  private output = "";

  private constructor(readonly dir: string, readonly port: number, readonly tlsPort: number | undefined, private readonly conf: string) {}

  /** Writes the config and picks free ports; call start(). */
  static async prepare(o: IrcdOptions): Promise<TestIrcd> {
    mkdirSync(o.dir, { recursive: true });
    const port = await freePort();
    const tlsPort = o.tls ? await freePort() : undefined;
    const conf = join(o.dir, "inspircd.conf");
    writeFileSync(conf, renderInspircdConf({ dir: o.dir, port, tlsPort, tls: o.tls }));
    return new TestIrcd(o.dir, port, tlsPort, conf);
  }

  get running(): boolean {
    return isRunning(this.child);
  }

  /** Starts the server; resolves once it accepts connections (every port). */
  async start(): Promise<this> {
    // cwd in its own folder: if it ever dumps core, the dump lands there, not in the checkout.
    const child = spawn("inspircd", ["--nofork", "--nopid", `--config=${this.conf}`, "--runasroot"], { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    child.stdout!.on("data", (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (this.output += d.toString()));
    try {
      await waitFor(async () => {
        if (!this.running) throw new Error(`inspircd exited: ${this.output.trim().split("\n").slice(-3).join(" | ")}`);
        return (await isListening(this.port)) && (!this.tlsPort || (await isListening(this.tlsPort)));
      }, 15_000, `inspircd listening on 127.0.0.1:${this.port}`);
    } catch (err) {
      await this.stop();
      throw err;
    }
    return this;
  }

  /** Stops it (SIGTERM, then SIGKILL after 5 s); resolves when it has exited. Idempotent. */
  async stop(): Promise<void> {
    await stopChild(this.child, 5_000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** The server's log so far (connections, quits with their reasons). */
  log(): string {
    try {
      return readFileSync(join(this.dir, "ircd.log"), "utf8");
    } catch {
      return "";
    }
  }
}
