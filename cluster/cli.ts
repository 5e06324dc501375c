/**
 * What every bustle program does the same way at its edge: exit codes (0 ok, 1 a user-facing
 * error as one clear line, 2 usage), and no stack traces for expected errors.
 */
import { Command, CommanderError } from "commander";
import { isExpectedError } from "./errors.js";

/** Prints an error the user can act on and exits 1; bugs keep their stack trace. */
export function exitWithError(err: unknown, program = "bustle"): never {
  if (isExpectedError(err)) {
    process.stderr.write(`${program}: ${err.message}\n`);
  } else {
    process.stderr.write(`${program}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
}

/** Makes commander exit 2 on usage errors (0 for --help/--version), on every sub-command. */
export function withUsageExitCodes(cmd: Command): Command {
  cmd.exitOverride((err: CommanderError) => {
    if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") process.exit(0);
    process.exit(2);
  });
  for (const sub of cmd.commands) withUsageExitCodes(sub);
  return cmd;
}

/** Parses argv and runs the chosen action, mapping errors to exit codes. */
export async function runProgram(cmd: Command, name: string, argv = process.argv): Promise<void> {
  withUsageExitCodes(cmd);
  try {
    await cmd.parseAsync(argv);
  } catch (err) {
    exitWithError(err, name);
  }
}
