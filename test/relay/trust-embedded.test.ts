/**
 * The embedded server on a shared host, attacked as a local user would: a real unprivileged uid
 * (nobody) with a shell, the world-readable parts of the state dir, and no password. Every
 * attack fails, nothing lands in bustle.log, and honest spool lines keep flowing.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { TLSSocket } from "node:tls";
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureCa, ensureNodeCert } from "../../cluster/tls.js";
import { localCredentials } from "../../cluster/local-auth.js";
import { freePort } from "../../cluster/net.js";
import { RelayProcess, writeRelayConfig, type RelayFiles } from "../../relay/local-node.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { appendSpool, logLines, makeHome, textOf } from "./support.js";
import { bin } from "../support/paths.js";
import { asNobody, attack, closeBus, connectLocal, openToOthers } from "./trust-support.js";

const dir = tempDir("bustle-trust-");
let port: number;
let files: RelayFiles;
let relay: RelayProcess;
const honest: string[] = [];

before(async () => {
  port = await freePort();
  files = writeRelayConfig(`${dir.path}/town`, "town", { port });
  relay = await new RelayProcess(files).start();
  openToOthers(dir.path, files.dir, files.state);
});
after(async () => {
  await relay?.stop();
  dir.remove();
});

let n = 0;
/** An honest user's line; resolves once bustle.log holds exactly the honest lines. */
async function honestLine(): Promise<void> {
  const user = `user${++n}`;
  makeHome(files.homes, user);
  appendSpool(files.homes, user, [`honest line ${n}`]);
  honest.push(`~${user} honest line ${n}`);
  await waitFor(
    () => logLines(files.log).length >= honest.length,
    15_000,
    `${honest.length} honest lines in bustle.log`,
  );
  assert.deepEqual(logLines(files.log).map(textOf), honest, "bustle.log holds exactly the honest lines");
}

const creds = () => localCredentials(files.state, "town");
const url = () => `nats://127.0.0.1:${port}`;

test("trust - generated credentials: 0600 passwords and keys, a public CA and status password", async () => {
  const { statSync } = await import("node:fs");
  const c = creds();
  const mode = (f: string) => statSync(f).mode & 0o777;
  for (const f of [c.relay.passwordFile, c.control.passwordFile, c.admin.passwordFile, c.caKey, c.serverKey])
    assert.equal(mode(f), 0o600, f);
  assert.equal(mode(c.status.passwordFile), 0o644);
  assert.equal(mode(c.ca), 0o644);
  assert.equal(mode(`${files.state}/nats/nats-server.conf`), 0o600, "the server conf holds passwords");
});

test("trust - a local user without credentials cannot publish to the embedded server", async () => {
  await honestLine();
  const c = creds();
  // No TLS settings at all: the server's certificate is from a CA the attacker's client does not know.
  assert.match(
    (await attack({ servers: [url()], actions: ["publish"] })).connect!,
    /certificate|self.signed|unable to verify/i,
  );
  // The public CA pinned, but no password, or a guessed one.
  assert.match((await attack({ servers: [url()], ca: c.ca, actions: ["publish"] })).connect!, /authorization/i);
  assert.match(
    (await attack({ servers: [url()], ca: c.ca, user: "town", pass: "town", actions: ["publish"] })).connect!,
    /authorization/i,
  );
  assert.match(
    (await attack({ servers: [url()], insecure: true, user: "town.admin", pass: "admin", actions: ["publish"] }))
      .connect!,
    /authorization/i,
  );
  // The relay's password file is the daemon's user's alone.
  const r = await attack({
    servers: [url()],
    ca: c.ca,
    user: "town",
    passFile: c.relay.passwordFile,
    actions: ["publish"],
  });
  assert.match(r["read-pass"]!, /EACCES/);
  assert.notEqual(r.connect, "ok");
  await honestLine();
  assert.ok(!logLines(files.log).some((l) => l.includes("I AM NOT BOB")));
});

test("trust - the world-readable status credential may read stream info but not publish, delete or purge", async () => {
  const c = creds();
  const r = await attack({
    servers: [url()],
    ca: c.ca,
    user: c.status.user,
    passFile: c.status.passwordFile,
    inboxPrefix: c.status.inboxPrefix,
    actions: ["publish", "delete", "purge"],
  });
  assert.equal(r["read-pass"], "ok");
  assert.equal(r.connect, "ok");
  assert.match(r.publish!, /permissions violation for publish to "bustle\.ev\.town/i);
  assert.match(r.delete!, /permissions violation for publish to "\$JS\.API\.STREAM\.DELETE/i);
  assert.match(r.purge!, /permissions violation for publish to "\$JS\.API\.STREAM\.PURGE/i);
  await honestLine();
});

test("trust - only the admin credential may delete or purge the stream", async () => {
  const c = creds();
  for (const role of ["relay", "control"] as const) {
    // Run as the daemon's user, who can read these files: a compromised relay or control server.
    const r = await attack(
      {
        servers: [url()],
        ca: c.ca,
        user: c[role].user,
        passFile: c[role].passwordFile,
        inboxPrefix: c[role].inboxPrefix,
        actions: ["delete", "purge"],
      },
      "root",
    );
    assert.equal(r.connect, "ok", `${role} connects`);
    assert.match(
      r.delete!,
      /permissions violation for publish to "\$JS\.API\.STREAM\.DELETE/i,
      `${role} may not delete the stream`,
    );
    assert.match(
      r.purge!,
      /permissions violation for publish to "\$JS\.API\.STREAM\.PURGE/i,
      `${role} may not purge the stream`,
    );
  }
  await honestLine();
  const admin = await connectLocal(files, "town", port, "admin");
  try {
    const si = await (await jetstreamManager(admin)).streams.info("BUSTLE");
    assert.equal(si.state.messages, honest.length, "the stream holds every honest event and nothing else");
  } finally {
    await closeBus(admin);
  }
});

test("trust - bustle status run by a plain user reads the embedded node with the status credential", async () => {
  const r = await asNobody([
    process.execPath,
    bin("relay/bin/bustle.js"),
    "status",
    "--config",
    files.config,
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { stream: { lastSeq?: number; error?: string } };
  assert.equal(report.stream.error, undefined);
  assert.equal(report.stream.lastSeq, honest.length);
});

/**
 * A local user's impostor on the embedded server's port: it answers like a nats-server, either
 * in plain text or over TLS with a certificate of its own (valid for 127.0.0.1, from its own CA).
 * It records every byte a client sends it.
 */
async function startImpostor(p: number, certDir: string) {
  const ca = ensureCa(certDir, "impostor");
  const cert = ensureNodeCert(ca, join(certDir, "impostor"), "town", ["127.0.0.1", "localhost"]);
  const received: Buffer[] = [];
  const seen = { plain: 0, tls: 0 };
  let turn = 0;
  const sockets = new Set<import("node:net").Socket>();
  const info = (tls: boolean) =>
    `INFO ${JSON.stringify({ server_id: "IMPOSTOR", server_name: "town", version: "2.9.10", proto: 1, go: "go1.19", host: "127.0.0.1", port: p, headers: true, max_payload: 1048576, auth_required: true, ...(tls ? { tls_required: true } : {}) })}\r\n`;
  const server = createServer((sock) => {
    sock.on("error", () => {});
    sockets.add(sock);
    sock.once("close", () => sockets.delete(sock));
    const tls = turn++ % 2 === 1;
    seen[tls ? "tls" : "plain"]++;
    sock.write(info(tls));
    if (!tls) {
      sock.on("data", (d: Buffer) => received.push(d));
      return;
    }
    const secure = new TLSSocket(sock, { isServer: true, key: readFileSync(cert.key), cert: readFileSync(cert.cert) });
    secure.on("error", () => {});
    secure.on("data", (d: Buffer) => received.push(d));
  });
  await new Promise<void>((res, rej) => {
    server.once("error", rej);
    server.listen(p, "127.0.0.1", () => res());
  });
  return {
    seen,
    received: () => Buffer.concat(received).toString("latin1"),
    close: () =>
      new Promise<void>((res) => {
        server.close(() => res());
        for (const s of sockets) s.destroy();
      }),
  };
}

test("trust - an impostor on the port while the embedded server restarts gets no password and serves nothing", async () => {
  await honestLine();
  const pidFile = join(files.state, "nats", "nats-server.pid");
  const pid = Number(readFileSync(pidFile, "utf8"));
  const password = readFileSync(creds().relay.passwordFile, "utf8").trim();
  process.kill(pid, "SIGKILL");
  await waitFor(() => !existsSync(`/proc/${pid}`), 5_000, "the embedded nats-server to die");
  // The supervisor waits before restarting; the impostor binds the free port first.
  const impostor = await startImpostor(port, join(dir.path, "impostor"));
  let released = false;
  try {
    // Users keep writing while the impostor holds the port.
    makeHome(files.homes, "during");
    appendSpool(files.homes, "during", ["written while an impostor held the port"]);
    await waitFor(
      () => impostor.seen.plain >= 2 && impostor.seen.tls >= 2,
      20_000,
      "the relay to try the impostor in both ways",
    );
    const got = impostor.received();
    assert.ok(!got.includes(password), "the relay's password never reaches the impostor");
    assert.doesNotMatch(got, /CONNECT/, "no CONNECT (so no credentials) was sent to the impostor");
    assert.deepEqual(logLines(files.log).map(textOf), honest, "nothing new in bustle.log while the impostor answers");
    await impostor.close();
    released = true;
  } finally {
    if (!released) await impostor.close();
  }
  // The real server comes back; the line written meanwhile and new lines arrive.
  honest.push("~during written while an impostor held the port");
  await waitFor(() => logLines(files.log).length >= honest.length, 60_000, "the line written during the squat");
  await honestLine();
});
