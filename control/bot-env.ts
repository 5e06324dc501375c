/**
 * The environment a bot host starts with: not the control server's (which holds every bot's
 * secrets, and whatever else its admin exported), only a small base and the secrets its own bot
 * declares in its section — every `*_env` key (`password_env`, `token_env`, `secret_env`,
 * `rcon_password_env`, `key_env`, sasl's `password_env`) and every `env:` name of a secret
 * reference (exec's `secrets: {NAME: {env: VAR}}`), at any depth.
 */

/**
 * What any bot host needs whatever its bot: where programs are, a home, language and time zone,
 * a temporary folder, the admin's Node runtime options and extra CA certificates (TLS to a
 * private IRC network), and the log level. None of these is meant to hold a secret.
 */
export const BASE_ENV: readonly string[] = [
  "PATH",
  "HOME",
  "LANG",
  "LANGUAGE",
  "LC_ALL",
  "LC_CTYPE",
  "LC_MESSAGES",
  "TZ",
  "TMPDIR",
  "NODE_OPTIONS",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "BUSTLE_LOG_LEVEL",
];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The environment variable names a bot's section refers to, in order of appearance. */
export function declaredEnv(section: unknown): string[] {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (typeof v !== "object" || v === null) return;
    for (const [key, value] of Object.entries(v)) {
      if (typeof value === "string") {
        if ((key === "env" || key.endsWith("_env")) && ENV_NAME.test(value)) names.add(value);
      } else if (!(key === "env" && !Array.isArray(value))) {
        walk(value); // an `env:` mapping holds literal values for a program, not references
      }
    }
  };
  walk(section);
  return [...names];
}

/** The base plus the bot's declared variables, taken from `from` (those that are set). */
export function botHostEnv(section: unknown, from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of [...BASE_ENV, ...declaredEnv(section)]) {
    const v = from[name];
    if (v !== undefined) env[name] = v;
  }
  return env;
}
