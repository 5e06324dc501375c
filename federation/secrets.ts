/**
 * The federation's passwords: random, kept in 0600 files (re-running init keeps them), and
 * written into the servers' confs only as bcrypt hashes, which nats-server (2.9 too) accepts in
 * place of a password. A conf then no longer leaks anyone's password.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import bcrypt from "bcryptjs";

/**
 * Passwords are 192 random bits, so the hash's cost buys nothing against guessing; it is kept
 * at the library default rather than higher because the server checks it on every connection.
 */
const BCRYPT_COST = 10;

/** The password in `path`, made (random, 0600) when the file is missing or empty. */
export function ensureSecret(path: string): string {
  if (existsSync(path)) {
    const v = readFileSync(path, "utf8").trim();
    if (v) return v;
  }
  const v = randomBytes(24).toString("base64url");
  writeFileSync(path, `${v}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return v;
}

/** A bcrypt hash nats-server accepts as a user's `password` (`$2a$…`). */
export function passwordHash(plain: string): string {
  // nats-server's own `mkpasswd` writes the 2a form; bcryptjs writes 2b (same algorithm here).
  return bcrypt.hashSync(plain, BCRYPT_COST).replace(/^\$2b\$/, "$2a$");
}
