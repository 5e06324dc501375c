/**
 * A local attacker for the trust tests, run as a real unprivileged uid (setpriv): connects to a
 * nats-server with whatever it could get (nothing, a guessed password, the world-readable status
 * credential, the public CA) and tries each action. Prints one JSON object:
 * `{"connect": "ok" | "<error>", "<action>": "ok" | "<error>", ...}`. Never throws.
 *
 *   node trust-attacker.js '{"servers":[...],"user":…,"passFile":…,"ca":…,"actions":["publish","delete","purge"]}'
 */
import { readFileSync } from "node:fs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";

interface Plan {
  servers: string[];
  user?: string;
  pass?: string;
  passFile?: string;
  ca?: string;
  /** The inbox prefix the credential may receive replies on (so a refusal is about the action). */
  inboxPrefix?: string;
  /** Trust any certificate (an attacker who does not care who answers). */
  insecure?: boolean;
  actions: Array<"publish" | "delete" | "purge" | "read-secret">;
  /** For read-secret: a file the attacker tries to read. */
  secret?: string;
}

const plan = JSON.parse(process.argv[2]!) as Plan;
const out: Record<string, string> = {};
const why = (err: unknown) => (err instanceof Error ? err.message : String(err));
// The forged shout from the issue: bob never wrote it.
const forged = JSON.stringify({
  v: 1,
  id: "forged-0000000001",
  ts: new Date().toISOString(),
  node: "town",
  source: "spool",
  kind: "shout",
  actor: "bob",
  text: "~bob shouts, 'I AM NOT BOB'",
});

async function main(): Promise<void> {
  let pass = plan.pass;
  if (plan.passFile) {
    try {
      pass = readFileSync(plan.passFile, "utf8").trim();
      out["read-pass"] = "ok";
    } catch (err) {
      out["read-pass"] = why(err);
    }
  }
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: plan.servers,
      ...(plan.user ? { user: plan.user } : {}),
      ...(pass ? { pass } : {}),
      ...(plan.ca ? { tls: { caFile: plan.ca } } : plan.insecure ? { tls: { rejectUnauthorized: false } } : {}),
      ...(plan.inboxPrefix ? { inboxPrefix: plan.inboxPrefix } : {}),
      timeout: 3_000,
      maxReconnectAttempts: 0,
    });
    out.connect = "ok";
  } catch (err) {
    out.connect = why(err);
    return;
  }
  try {
    for (const action of plan.actions) {
      try {
        if (action === "publish") {
          await jetstream(nc, { timeout: 3_000 }).publish("bustle.ev.town.spool.shout", forged, {
            msgID: "forged-0000000001",
          });
        } else if (action === "delete") {
          await (await jetstreamManager(nc, { timeout: 3_000, checkAPI: false })).streams.delete("BUSTLE");
        } else if (action === "purge") {
          await (await jetstreamManager(nc, { timeout: 3_000, checkAPI: false })).streams.purge("BUSTLE");
        } else if (action === "read-secret") {
          readFileSync(plan.secret!);
        }
        out[action] = "ok";
      } catch (err) {
        out[action] = why(err);
      }
    }
  } finally {
    await nc.close();
  }
}

main()
  .catch((err) => (out.crash = why(err)))
  .finally(() => process.stdout.write(JSON.stringify(out) + "\n"));
