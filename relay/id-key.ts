/**
 * The node's event id key (`<state>/id-key`, 0600): made once, kept for the node's life, so ids
 * stay stable across restarts and retries but nobody without the key can predict them.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkSecretFile } from "../cluster/config/secrets.js";
import { ConfigError } from "../cluster/errors.js";

export const idKeyPath = (stateDir: string): string => join(stateDir, "id-key");

/** Reads the key, making it first when missing. Throws ConfigError when it is open to others or damaged. */
export function loadIdKey(stateDir: string): Buffer {
  const file = idKeyPath(stateDir);
  if (!existsSync(file)) {
    try {
      writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  checkSecretFile(file, "event id key");
  const hex = readFileSync(file, "utf8").trim();
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new ConfigError(`event id key: ${file} is damaged (expected 64 hex digits); remove it to make a new one`);
  return Buffer.from(hex, "hex");
}
