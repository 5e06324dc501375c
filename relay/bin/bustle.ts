#!/usr/bin/env node
/**
 * `bustle`: the feed, and the commands a user posts with. This file only composes the commands;
 * each lives in relay/cli/ and loads its heavy parts (YAML, NATS) when it runs.
 * Exit codes: 0 ok, 1 a user-facing error (one line on stderr), 2 a usage error.
 */
import { CommanderError, type Command } from "commander";
import { feedCommand } from "../cli/feed.js";
import { digestCommand } from "../cli/digest.js";
import { muteCommand, unmuteCommand } from "../cli/mute.js";
import { optinCommand } from "../cli/optin.js";
import { optoutCommand } from "../cli/optout.js";
import { reportError } from "../cli/run.js";
import { shoutCommand } from "../cli/shout.js";
import { statusCommand } from "../cli/status.js";
import { updateCommand } from "../cli/update.js";

const program = feedCommand().enablePositionalOptions();
for (const cmd of [updateCommand(), shoutCommand(), optoutCommand(), optinCommand(), statusCommand(), muteCommand(), unmuteCommand(), digestCommand()]) program.addCommand(cmd);

// Usage errors exit 2 (commander uses 1); help exits 0.
const usageExits = (cmd: Command) => {
  const takesText = cmd.registeredArguments.some((a) => a.variadic);
  cmd.exitOverride().configureOutput({
    outputError: (msg, write) => {
      const text = msg.replace(/^error: /, "").trim();
      const hint = takesText && text.startsWith("unknown option") ? "; text that starts with - goes after --" : "";
      write(`bustle: ${text}${hint} (see bustle ${cmd === program ? "" : cmd.name() + " "}--help)\n`);
    },
  });
  cmd.commands.forEach(usageExits);
};
usageExits(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else reportError(err);
}
// A large backlog written into a slow pipe can still be queued: let it drain before leaving.
if (process.stdout.writableLength > 0) await new Promise((done) => process.stdout.once("drain", done).once("error", done).once("close", done));
// Done: a NATS client still dialling a silent server must not keep us alive. (stdout and
// stderr are synchronous for files, pipes and terminals on Linux, so nothing is lost.)
process.exit();
