/** The `exec:` section of a bot: which program to run, its environment, and the limits on what it prints. */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { array, int, number, object, optional, record, string, type Infer } from "../../cluster/config/schema.js";

const envName = string({ pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, describe: "an environment variable name" });
const secretRef = object(
  { env: optional(envName), file: optional(string({ min: 1 })) },
  { describe: "{env: NAME} or {file: PATH}" },
);

export const EXEC_DEFAULTS = {
  rate: { burst: 20, per_minute: 600 },
  max_line_bytes: 16_384,
  /** Events waiting to be written to a program that does not read its stdin. */
  max_pending_bytes: 1_048_576,
} as const;

export const execSchema = object({
  /** The program and its arguments; no shell is involved. */
  command: array(string({ min: 1 }), { min: 1 }),
  /** Extra environment; the program does not inherit the control server's environment. */
  env: optional(record(string({ max: 4096 }), envName), () => ({})),
  /** Secrets handed to the program as environment variables, read from the control server's env or files. */
  secrets: optional(record(secretRef, envName), () => ({})),
  /** What the program may publish: a token bucket. Lines over the rate are dropped (and counted in the logs). */
  rate: optional(
    object({
      burst: optional(int({ min: 1, max: 100_000 }), EXEC_DEFAULTS.rate.burst),
      per_minute: optional(number({ min: 0.1, max: 6_000_000 }), EXEC_DEFAULTS.rate.per_minute),
    }),
    () => ({ ...EXEC_DEFAULTS.rate }),
  ),
  /** Output lines longer than this are rejected whole. */
  max_line_bytes: optional(int({ min: 256, max: 1_048_576 }), EXEC_DEFAULTS.max_line_bytes),
});
export type ExecConfig = Infer<typeof execSchema>;

/** The program's path, found on PATH when it has no slash; undefined when it is not there or not executable. */
export function findProgram(prog: string, path = process.env.PATH ?? ""): string | undefined {
  const candidates = prog.includes("/")
    ? [prog]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, prog));
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* try the next */
    }
  }
  return undefined;
}

/** Problems `bustle-control check` reports beyond the schema: the program exists, the secrets are there. */
export function checkExec(config: ExecConfig): string[] {
  const problems: string[] = [];
  const prog = config.command[0]!;
  if (!findProgram(prog))
    problems.push(
      `command[0]: program ${JSON.stringify(prog)} not found${prog.includes("/") ? " or not executable" : " on PATH"}`,
    );
  for (const [name, ref] of Object.entries(config.secrets)) {
    if (ref.env === undefined && ref.file === undefined) problems.push(`secrets.${name}: give env or file`);
    else if (ref.env !== undefined && !process.env[ref.env])
      problems.push(`secrets.${name}.env: environment variable ${ref.env} is not set`);
    else if (ref.file !== undefined) {
      try {
        if (!statSync(ref.file).isFile()) problems.push(`secrets.${name}.file: ${ref.file} is not a file`);
      } catch {
        problems.push(`secrets.${name}.file: cannot read secret file ${ref.file}`);
      }
    }
  }
  return problems;
}
