/** Small network helpers shared by the server wrapper, `bustle-cluster up` and the tests. */
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for a server whose port must be known before
 * it starts (route URLs in other servers' confs). Chosen at random below Linux's ephemeral range
 * (32768–60999): a port the kernel handed out (port 0) is the very range it gives every outgoing
 * connection, so under load a client socket could take it before the server binds it.
 *
 * A free port is also reserved for this process's lifetime, with a file in a folder every
 * process of this user shares: between the check and the server's bind, another process (test
 * files run two at a time) could otherwise draw the same port and bind it first.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!reservePort(port)) continue;
    if (await canListen(port)) return port;
  }
  return listenOnce(0);
}

const reservations = join(tmpdir(), `bustle-ports-${process.getuid?.() ?? "user"}`);
const reserved: string[] = [];

/** True when `port` is now this process's: no live process of this user holds it. */
function reservePort(port: number): boolean {
  const file = join(reservations, String(port));
  try {
    mkdirSync(reservations, { recursive: true, mode: 0o700 });
    writeFileSync(file, String(process.pid), { flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") return true; // no shared folder: the check alone
    const holder = Number.parseInt(readFileSafe(file), 10);
    // A holder that died (kill -9 skips the exit hook) leaves its file: it is removed for a later
    // draw, not taken over here, so two processes cleaning up at once cannot both win it.
    if (Number.isInteger(holder) && holder !== process.pid && !alive(holder)) unlinkSafe(file);
    return false;
  }
  if (reserved.length === 0) process.once("exit", () => reserved.forEach(unlinkSafe));
  reserved.push(file);
  return true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function unlinkSafe(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* gone already */
  }
}

function canListen(port: number): Promise<boolean> {
  return listenOnce(port).then(
    () => true,
    () => false,
  );
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(port, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** True when something accepts TCP connections on host:port. */
export function isListening(port: number, host = "127.0.0.1", timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}
