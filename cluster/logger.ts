/**
 * Structured daemon logs: one JSON object per line on stderr (journald keeps them as they are).
 * Loggers are passed in, never imported as a global: each component gets a child.
 */
export type Level = "debug" | "info" | "warn" | "error";
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger whose lines carry `component` (joined with dots) and the extra fields. */
  child(component: string, fields?: Fields): Logger;
}

export interface LoggerOptions {
  level?: Level;
  component?: string;
  fields?: Fields;
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const envLevel = process.env.BUSTLE_LOG_LEVEL as Level | undefined;
  const min = RANK[opts.level ?? (envLevel && envLevel in RANK ? envLevel : "info")];
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const make = (component: string | undefined, base: Fields): Logger => {
    const emit = (level: Level, msg: string, fields?: Fields) => {
      if (RANK[level] < min) return;
      const record: Fields = { ts: new Date().toISOString(), level, ...(component ? { component } : {}), msg, ...base };
      for (const [k, v] of Object.entries(fields ?? {})) record[k] = v instanceof Error ? describeError(v) : v;
      write(JSON.stringify(record) + "\n");
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (c, f) => make(component ? `${component}.${c}` : c, { ...base, ...f }),
    };
  };
  return make(opts.component, opts.fields ?? {});
}

/** A logger that drops everything (for tests and quiet CLI paths). */
export const silentLogger: Logger = createLogger({ write: () => {} });

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.cause ? `${err.message} (cause: ${describeError(err.cause)})` : err.message;
  return String(err);
}
