/**
 * Helpers for the trust tests: a real unprivileged uid (nobody, via setpriv) running the
 * attacker script, and connections to an embedded server with its generated credentials.
 */
import { execFile } from "node:child_process";
import { chmodSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { closeBus, connectBus, type NatsConnection } from "../../cluster/connection.js";
import { localBusSettings, localCredentials, type LocalRole } from "../../cluster/local-auth.js";
import { silentLogger } from "../../cluster/logger.js";
import type { RelayFiles } from "../../relay/local-node.js";

export const NOBODY = 65534;
const ATTACKER = join(dirname(fileURLToPath(import.meta.url)), "trust-attacker.js");

/** Runs `argv` as `uid` (and the same gid) with no supplementary groups; resolves with its output and code. */
export function asUid(
  uid: number,
  argv: string[],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "setpriv",
      [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", ...argv],
      { timeout: timeoutMs, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs `argv` as uid/gid nobody. */
export const asNobody = (argv: string[], env: Record<string, string> = {}) => asUid(NOBODY, argv, env);

export interface AttackPlan {
  servers: string[];
  user?: string;
  pass?: string;
  passFile?: string;
  ca?: string;
  insecure?: boolean;
  inboxPrefix?: string;
  actions: Array<"publish" | "delete" | "purge" | "read-secret">;
  secret?: string;
}

/** The attacker's results, `{connect, publish, …}`: "ok" or the error it met. */
export async function attack(plan: AttackPlan, uid: "nobody" | "root" = "nobody"): Promise<Record<string, string>> {
  const argv = [process.execPath, ATTACKER, JSON.stringify(plan)];
  const r =
    uid === "nobody"
      ? await asNobody(argv)
      : await new Promise<{ stdout: string; stderr: string }>((res) =>
          execFile(argv[0]!, argv.slice(1), { timeout: 20_000 }, (_e, stdout, stderr) => res({ stdout, stderr })),
        );
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, string>;
  } catch {
    throw new Error(`attacker printed no result: ${r.stdout} ${r.stderr}`);
  }
}

/** Opens `path` and its parents to other users (mkdtemp makes 0700 folders) so nobody can reach public files. */
export function openToOthers(...paths: string[]): void {
  for (const p of paths) chmodSync(p, 0o755);
}

/** A connection to the embedded server of a relay laid out by writeRelayConfig, as `role`. */
export function connectLocal(files: RelayFiles, node: string, port: number, role: LocalRole): Promise<NatsConnection> {
  const settings = localBusSettings(localCredentials(files.state, node), role, port);
  return connectBus({ ...settings, name: `trust test ${role}`, logger: silentLogger, waitOnFirstConnect: false });
}

export { closeBus };
