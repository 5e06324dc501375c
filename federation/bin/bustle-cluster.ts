#!/usr/bin/env node
/** bustle-cluster — generate a federation's configs, add and remove members, run a local one, report a running one's health. */
import { Command } from "commander";
import { runProgram } from "../../cluster/program.js";
import { initCommand } from "../commands/init-command.js";
import {
  addMemberCommand,
  addServerCommand,
  removeMemberCommand,
  retireServerCommand,
} from "../commands/member-command.js";
import { statusCommand } from "../commands/status-command.js";
import { streamCommand } from "../commands/stream-command.js";
import { upCommand } from "../commands/up-command.js";

const program = new Command("bustle-cluster")
  .description("bustle federations: several tildes in one NATS cluster")
  .addCommand(initCommand())
  .addCommand(addMemberCommand())
  .addCommand(removeMemberCommand())
  .addCommand(addServerCommand())
  .addCommand(retireServerCommand())
  .addCommand(upCommand())
  .addCommand(statusCommand())
  .addCommand(streamCommand());

await runProgram(program, "bustle-cluster");
