import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RelayProcess, writeRelayConfig, type RelayFiles } from "../../relay/local-node.js";
import { startServer } from "../../cluster/servers.js";
import type { NatsServer } from "../../cluster/nats-server.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { cliEnv, runBustle } from "./cli/bustle-process.js";
import { appendSpool, logLines, makeHome, textOf } from "./support.js";
import { BUSTLED, runCliSync } from "../support/cli.js";

const dir = tempDir("bustle-silence-");
let server: NatsServer;
let files: RelayFiles;
let relay: RelayProcess;
const bustled = (...args: string[]) => runCliSync(BUSTLED, [...args, "--config", files.config]);
const audit = () =>
  existsSync(files.audit)
    ? readFileSync(files.audit, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
const texts = () => logLines(files.log).map(textOf);

before(async () => {
  server = await startServer(dir.path);
  files = writeRelayConfig(join(dir.path, "town"), "town", { servers: [server.url] });
  relay = await new RelayProcess(files).start();
  for (const u of ["alice", "bob"]) makeHome(files.homes, u);
});
after(async () => {
  await relay?.stop();
  await server?.stop();
  dir.remove();
});

test("silence - the running relay refuses a silenced user's lines (audited), others flow, the user is told once, it expires", async () => {
  const s = bustled("silence", "alice", "--for", "4s", "--reason", "flooding");
  assert.equal(s.stderr, "");
  assert.equal(s.code, 0);
  const note = join(files.homes, "alice", ".bustle.silenced");
  assert.match(s.stdout, new RegExp(`^silenced alice on town until \\S+Z \\(reason: flooding\\); told in ${note}\\n$`));
  const until = /until (\S+Z)/.exec(s.stdout)![1]!;
  assert.equal(
    bustled("silenced").stdout,
    `alice\tuntil ${until}\tsince ${/at=(\S+)/.exec(readFileSync(note, "utf8"))![1]}\tflooding\n`,
  );

  // No restart: the relay sees the list change (it notes it in the audit log).
  await waitFor(
    () => audit().some((r) => r.what === "silenced users" && (r.users as string[]).includes("alice")),
    5_000,
    "the relay to pick up the silence",
  );
  appendSpool(files.homes, "alice", ["should not be seen"]);
  appendSpool(files.homes, "bob", ["still here"]);
  await waitFor(() => texts().includes("~bob still here"), 10_000, "bob's line");
  await waitFor(
    () => audit().some((r) => r.type === "rejected" && r.reason === "silenced" && r.actor === "alice"),
    10_000,
    "alice's refusal in the audit",
  );
  const refused = audit().find((r) => r.reason === "silenced")!;
  assert.equal(refused.until, until);
  assert.equal(refused.why, "flooding");
  assert.ok(!texts().some((t) => t.includes("should not be seen")), "nothing of alice's reaches the stream");

  // alice learns it from her next bustle command, once.
  const env = cliEnv(join(files.homes, "alice"));
  const first = await runBustle(["update", "hello?"], env);
  assert.equal(first.code, 0);
  assert.equal(
    first.stderr,
    `bustle: you are silenced on town until ${until} (reason: flooding): your updates and shouts are not posted\n`,
  );
  assert.equal((await runBustle(["update", "hello??"], env)).stderr, "", "told once");

  // Expiry: after `until` alice's new lines flow again, without anyone doing anything.
  await waitFor(() => Date.now() > Date.parse(until), 10_000, "the silence to end");
  appendSpool(files.homes, "alice", ["back again"]);
  await waitFor(() => texts().includes("~alice back again"), 10_000, "alice's line after expiry");
  assert.ok(!texts().some((t) => t.startsWith("~alice hello")), "lines sent while silenced stay refused");
  assert.equal(bustled("silenced").stdout, "nobody is silenced\n");
});

test("silence - until unsilenced; unsilence lifts it at once and removes the note; bad input is one clear line", async () => {
  assert.match(bustled("silence", "bob").stdout, /^silenced bob on town until unsilenced; told in /);
  await waitFor(
    () => audit().some((r) => r.what === "silenced users" && (r.users as string[]).includes("bob")),
    5_000,
    "the relay to pick up bob's silence",
  );
  appendSpool(files.homes, "bob", ["muffled"]);
  await waitFor(() => audit().some((r) => r.reason === "silenced" && r.actor === "bob"), 10_000, "bob's refusal");
  assert.equal(bustled("unsilence", "bob").stdout, "bob may post again\n");
  assert.ok(!existsSync(join(files.homes, "bob", ".bustle.silenced")));
  const lastList = () =>
    audit()
      .filter((r) => r.what === "silenced users")
      .at(-1)?.users as string[] | undefined;
  await waitFor(() => lastList()?.length === 0, 5_000, "the relay to lift it");
  appendSpool(files.homes, "bob", ["audible"]);
  await waitFor(() => texts().includes("~bob audible"), 10_000, "bob's line after unsilence");
  assert.equal(bustled("unsilence", "bob").stdout, "bob was not silenced\n");
  const bad = bustled("silence", "../etc");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /'\.\.\/etc' is invalid for argument 'USER'\. must be a user name/);
  assert.equal(bustled("silence", "carol", "--for", "soon").code, 2);
});
