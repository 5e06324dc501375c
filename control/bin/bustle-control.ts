#!/usr/bin/env node
/** bustle-control — runs the bots (serve), validates control.yaml (check), and steers the bots. */
import { Command } from "commander";
import { runProgram } from "../../cluster/program.js";
import { checkCommand } from "../cli/check.js";
import { serveCommand } from "../cli/serve.js";
import { statusCommand } from "../cli/status.js";
import { steerCommand } from "../cli/steer.js";
import { schemaCommand } from "../cli/schema.js";
import { applyCommand } from "../cli/apply.js";
import { historyCommand } from "../cli/history.js";
import { rollbackCommand } from "../cli/rollback.js";

const program = new Command("bustle-control")
  .description(
    "the bustle control server: YAML-configured bots, supervised, each running exactly once across the federation",
  )
  .addCommand(serveCommand)
  .addCommand(checkCommand)
  .addCommand(statusCommand)
  .addCommand(steerCommand("halt"))
  .addCommand(steerCommand("resume"))
  .addCommand(steerCommand("reload"))
  .addCommand(steerCommand("restart"))
  .addCommand(steerCommand("stop"))
  .addCommand(applyCommand)
  .addCommand(historyCommand)
  .addCommand(rollbackCommand)
  .addCommand(schemaCommand);

await runProgram(program, "bustle-control");
