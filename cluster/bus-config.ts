/**
 * The `nats:` section shared by node.yaml and control.yaml: where the servers are and how to
 * authenticate. Each program composes this schema into its own config.
 */
import { existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { array, int, object, optional, refine, string, type Infer } from "./config/schema.js";
import { checkSecretFile, readSecret } from "./config/secrets.js";
import { ConfigError } from "./errors.js";

const url = string({ pattern: /^(nats|tls):\/\/[^\s/]+(:\d+)?$/, describe: 'a NATS URL like "nats://127.0.0.1:4222"' });
const tlsSchema = object({ ca: optional(string()), cert: optional(string()), key: optional(string()) });

/** The section's defaults: no servers (the embedded one) on the usual client port. */
export const NATS_DEFAULTS = { port: 4222 };

export const natsSectionSchema = refine(
  object({
    /** No servers: the embedded default (bustled runs its own nats-server). */
    servers: optional(array(url, { min: 1 })),
    port: optional(int({ min: 1, max: 65535 }), NATS_DEFAULTS.port),
    user: optional(string({ min: 1 })),
    password_file: optional(string({ min: 1 })),
    password_env: optional(string({ pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, describe: "an environment variable name" })),
    tls: optional(tlsSchema),
  }),
  (v, report, path) => {
    if (v.password_file !== undefined && v.password_env !== undefined)
      report([...path, "password_env"], "give password_file or password_env, not both");
    if ((v.password_file !== undefined || v.password_env !== undefined) && v.user === undefined)
      report([...path, "user"], "is required when a password is given");
  },
);
export type NatsSection = Infer<typeof natsSectionSchema>;

/** What connectBus needs, with secrets read and paths resolved. */
export interface BusSettings {
  servers: string[];
  user?: string | undefined;
  pass?: string | undefined;
  tls?: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined } | undefined;
  /** Per-user inbox prefix so users cannot read each other's replies (set by localBusSettings). */
  inboxPrefix?: string | undefined;
}

/** Resolves the section against the config file's folder (relative TLS paths) and reads the password. */
export function resolveBusSettings(
  section: NatsSection,
  configFile: string | undefined,
  servers: string[],
): BusSettings {
  const base = configFile ? dirname(resolve(configFile)) : process.cwd();
  const at = (p: string | undefined, key: string) => {
    if (p === undefined) return undefined;
    const full = isAbsolute(p) ? p : resolve(base, p);
    if (!existsSync(full)) throw new ConfigError(`nats.tls.${key}: file ${full} does not exist`);
    if (key === "key") checkSecretFile(full, "nats.tls.key");
    return full;
  };
  const pass = readSecret(
    {
      env: section.password_env,
      file:
        section.password_file &&
        (isAbsolute(section.password_file) ? section.password_file : resolve(base, section.password_file)),
    },
    "nats password",
  );
  const tls = section.tls
    ? { caFile: at(section.tls.ca, "ca"), certFile: at(section.tls.cert, "cert"), keyFile: at(section.tls.key, "key") }
    : undefined;
  return { servers, user: section.user, pass, tls };
}
