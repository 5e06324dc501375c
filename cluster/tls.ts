/**
 * Certificates for a federation, made with the `openssl` command: one CA (its key stays in the
 * init folder, never in a node's folder) and one certificate per server node whose names are the
 * node's host, usable both as server and client (routes verify each other with it).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { BustleError } from "./errors.js";

/** openssl is missing or refused to make a certificate. */
export class CertificateError extends BustleError {}

function openssl(args: string[]): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === "ENOENT")
      throw new CertificateError(
        "making TLS certificates needs the openssl command: install it (apt-get install openssl)",
        { cause: err },
      );
    const why = e.stderr?.toString("utf8").trim().split("\n").pop() ?? e.message;
    throw new CertificateError(`openssl ${args[0]} failed: ${why}`, { cause: err });
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export interface CaFiles {
  cert: string;
  key: string;
}

/** Creates `dir/ca.pem` and `dir/ca-key.pem` (0600) unless they exist; returns their paths. */
export function ensureCa(dir: string, name: string): CaFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = { cert: join(dir, "ca.pem"), key: join(dir, "ca-key.pem") };
  if (existsSync(ca.cert) && existsSync(ca.key)) return ca;
  openssl([
    "req",
    "-x509",
    ...EC,
    "-keyout",
    ca.key,
    "-out",
    ca.cert,
    "-days",
    "3650",
    "-subj",
    `/CN=bustle ${name} CA`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  chmodSync(ca.key, 0o600);
  return ca;
}

/**
 * Writes `<prefix>.pem` and `<prefix>-key.pem` (0600) for node `id` reachable as `hosts`,
 * signed by `ca`. Existing files are kept (re-running init does not re-key a node).
 */
export function ensureNodeCert(
  ca: CaFiles,
  prefix: string,
  id: string,
  hosts: string[],
): { cert: string; key: string } {
  const out = { cert: `${prefix}.pem`, key: `${prefix}-key.pem` };
  if (existsSync(out.cert) && existsSync(out.key)) return out;
  const names = [...new Set(hosts)].map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(",");
  const csr = `${prefix}.csr`;
  const ext = `${prefix}.ext`;
  writeFileSync(
    ext,
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth,clientAuth",
      `subjectAltName=${names}`,
      "",
    ].join("\n"),
  );
  try {
    openssl(["req", "-new", ...EC, "-keyout", out.key, "-out", csr, "-subj", `/CN=${id}`]);
    chmodSync(out.key, 0o600);
    openssl([
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      ca.cert,
      "-CAkey",
      ca.key,
      "-set_serial",
      `0x${randomBytes(12).toString("hex")}`,
      "-days",
      "825",
      "-sha256",
      "-extfile",
      ext,
      "-out",
      out.cert,
    ]);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
  return out;
}
