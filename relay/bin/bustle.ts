#!/usr/bin/env node
/**
 * `bustle`: the feed, and the commands a user posts with. This file only composes the commands;
 * each lives in relay/cli/ and loads its heavy parts (YAML, NATS) when it runs.
 * Exit codes (cluster/program.ts): 0 ok, 1 a user-facing error (one line on stderr), 2 a usage error.
 */
import type { Command } from "commander";
import { runProgram } from "../../cluster/program.js";
import { feedCommand } from "../cli/feed.js";
import { digestCommand } from "../cli/digest.js";
import { muteCommand, unmuteCommand } from "../cli/mute.js";
import { optinCommand } from "../cli/optin.js";
import { optoutCommand } from "../cli/optout.js";
import { shoutCommand } from "../cli/shout.js";
import { statusCommand } from "../cli/status.js";
import { updateCommand } from "../cli/update.js";

const program = feedCommand().enablePositionalOptions();
for (const cmd of [
  updateCommand(),
  shoutCommand(),
  optoutCommand(),
  optinCommand(),
  statusCommand(),
  muteCommand(),
  unmuteCommand(),
  digestCommand(),
])
  program.addCommand(cmd);

/** A usage error names the help to read; text that looks like an option goes after `--`. */
const usageLine = (text: string, cmd: Command): string => {
  const takesText = cmd.registeredArguments.some((a) => a.variadic);
  const hint = takesText && text.startsWith("unknown option") ? "; text that starts with - goes after --" : "";
  return `bustle: ${text}${hint} (see bustle ${cmd === program ? "" : cmd.name() + " "}--help)`;
};

await runProgram(program, "bustle", { usageLine });
