/**
 * The edge every bustle program shares: exit codes (0 ok, 1 an expected error as one clear line,
 * 2 a usage error), the one error printer, and for daemons the signals (SIGTERM/SIGINT stop in
 * order, a second one leaves at once, SIGHUP reloads). It knows no particular program: each bin
 * composes its commands and hands them here.
 */
import { type Command, CommanderError } from "commander";
import { isExpectedError } from "./errors.js";
import type { Logger } from "./logger.js";

/** The one way an error reaches the user: its message on one line, or a bug's stack trace. */
export function printError(err: unknown, program: string): void {
  if (isExpectedError(err)) process.stderr.write(`${program}: ${err.message}\n`);
  else
    process.stderr.write(
      `${program}: unexpected error (a bug; please report it):\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
}

export interface ProgramOptions {
  /**
   * How a usage error is worded, from commander's text (without its "error: " prefix) and the
   * command it belongs to. By default commander's own line.
   */
  usageLine?: (text: string, cmd: Command) => string;
}

/**
 * Parses argv and runs the chosen action; resolves never: the process exits when the action is
 * done (after stdout has drained), with 0, 1 (an error, printed by printError) or 2 (usage; 0 for
 * --help and --version). Leaving explicitly means a NATS client still dialling a silent server
 * cannot keep a finished command alive. A daemon's action awaits runDaemon, so it ends with it.
 */
export async function runProgram(
  cmd: Command,
  name: string,
  opts: ProgramOptions = {},
  argv = process.argv,
): Promise<never> {
  configureUsage(cmd, opts.usageLine);
  try {
    await cmd.parseAsync(argv);
  } catch (err) {
    // Help asked for, or shown because no sub-command was given, is not an error.
    if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 || err.code === "commander.help" ? 0 : 2;
    else {
      printError(err, name);
      process.exitCode = 1;
    }
  }
  // A large output written into a slow pipe can still be queued: let it drain before leaving.
  if (process.stdout.writableLength > 0)
    await new Promise((done) => process.stdout.once("drain", done).once("error", done).once("close", done));
  process.exit();
}

/** Makes commander throw instead of exiting (runProgram maps the codes), on every sub-command. */
function configureUsage(cmd: Command, usageLine: ProgramOptions["usageLine"]): void {
  cmd.exitOverride();
  if (usageLine)
    cmd.configureOutput({
      outputError: (msg, write) => write(usageLine(msg.replace(/^error: /, "").trim(), cmd) + "\n"),
    });
  for (const sub of cmd.commands) configureUsage(sub, usageLine);
}

/** A long-running part of a program, as runDaemon drives it. */
export interface Daemon {
  /** Starts it; a rejection is the program's error (exit 1). A failed start cleans up after itself. */
  start(): Promise<void>;
  /** Stops it in order; `signal` is what asked (SIGTERM, SIGINT, or "failed"). */
  stop(signal: string): Promise<void>;
  /** SIGHUP: re-read the config or reopen the logs. Runs one at a time; a failure is logged, the daemon keeps running. */
  reload?(): Promise<void>;
  /** Settles when the daemon fails on its own: it is stopped and the program exits 1. */
  failed?: Promise<unknown>;
}

/**
 * Runs a daemon until a signal or its own failure stops it. Resolves with the exit code once it
 * has stopped (0 after a signal, 1 after a failure or a failed stop) and sets process.exitCode;
 * rejects only if start() rejects. A second SIGTERM/SIGINT while stopping exits 1 at once.
 */
export async function runDaemon(daemon: Daemon, log: Logger): Promise<number> {
  let stopping = false;
  let signalled = false;
  let stopped!: (code: number) => void;
  const done = new Promise<number>((resolve) => (stopped = resolve));
  const stop = (signal: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    Promise.resolve()
      .then(() => daemon.stop(signal))
      .then(
        () => stopped(code),
        (err) => {
          log.error("error while stopping", { error: err });
          stopped(1);
        },
      );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1); // a second signal: leave now
    signalled = true;
    stop(signal, 0);
  };
  let reloading = Promise.resolve();
  const onReload = () => {
    reloading = reloading.then(() => daemon.reload!().catch((err) => log.error("reload failed", { error: err })));
  };
  process.on("SIGTERM", onSignal).on("SIGINT", onSignal);
  if (daemon.reload) process.on("SIGHUP", onReload);
  // Signal handlers hold no handle: keep the program alive until it is stopped.
  const alive = setInterval(() => {}, 1 << 30);
  const failed = () => stop("failed", 1);
  void daemon.failed?.then(failed, failed);
  try {
    try {
      await daemon.start();
    } catch (err) {
      if (!signalled) throw err;
      // A signal came while it started: the stop it asked for is what ends the program.
    }
    process.exitCode = await done;
    return process.exitCode;
  } finally {
    clearInterval(alive);
    process.off("SIGTERM", onSignal).off("SIGINT", onSignal).off("SIGHUP", onReload);
  }
}
