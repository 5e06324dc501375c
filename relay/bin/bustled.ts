#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=50
/** bustled — the relay node daemon. Parses flags, loads the config, runs the relay. */
import { Command } from "commander";
import { runDaemon, runProgram } from "../../cluster/program.js";
import { createLogger } from "../../cluster/logger.js";
import { findConfig, NODE_CONFIG_SEARCH, SYSTEM_NODE_CONFIG } from "../../cluster/config/node-location.js";
import { loadNodeConfig, isEmbedded, type NodeOverrides } from "../config.js";
import { silenceCommands } from "../silence-commands.js";
import { withdrawCommand } from "../withdraw-command.js";

const splitUrls = (v: string): string[] =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

const program = new Command("bustled")
  .enablePositionalOptions()
  .description("the bustle relay node: spools and home-directory activity → the NATS stream → bustle.log")
  .option(
    "-c, --config <file>",
    `node.yaml (default $BUSTLE_CONFIG, else ${SYSTEM_NODE_CONFIG} when it exists, else the embedded single-node default)`,
  )
  .option("--homes <dir>", "homes root (overrides homes.root)")
  .option("--log <file>", "bustle.log path (overrides log.path)")
  .option("--state <dir>", "state dir (overrides state.dir)")
  .option("--nats <urls>", "comma-separated NATS server URLs (overrides nats.servers)", splitUrls)
  .action(async (opts: { config?: string; homes?: string; log?: string; state?: string; nats?: string[] }) => {
    const overrides: NodeOverrides = { homes: opts.homes, log: opts.log, state: opts.state, nats: opts.nats };
    // The same resolution as every client's, so `bustle` finds what this node writes.
    const configFile = findConfig(NODE_CONFIG_SEARCH(opts.config))?.file;
    const config = loadNodeConfig(configFile, overrides);
    const log = createLogger({ component: "bustled", fields: { node: config.node.id } });
    const { createRelay } = await import("../daemon.js");
    const relay = createRelay(config, { log, configFile });
    await runDaemon(
      {
        start: async () => {
          await relay.start();
          process.stderr.write(
            `bustled: node ${config.node.id} — log ${config.log.path}, state ${config.state.dir}, ` +
              (isEmbedded(config)
                ? `embedded nats-server on 127.0.0.1:${config.nats.port}\n`
                : `NATS ${config.nats.servers!.join(", ")}\n`),
          );
        },
        stop: () => relay.stop(),
        // logrotate (and `systemctl reload`): continue in fresh log files.
        reload: () => relay.reopenLogs(),
        failed: relay.failed,
      },
      log,
    );
  });

program
  .command("check")
  .description("validate a node.yaml and exit (0: valid; 1: every problem listed with file:line)")
  .requiredOption("-c, --config <file>", "node.yaml to check")
  .action((opts: { config: string }) => {
    const config = loadNodeConfig(opts.config);
    process.stdout.write(
      `${opts.config}: ok (node ${config.node.id}${isEmbedded(config) ? ", embedded nats-server" : `, NATS ${config.nats.servers!.join(", ")}`})\n`,
    );
  });

for (const cmd of [...silenceCommands(), withdrawCommand()]) program.addCommand(cmd);

program
  .command("schema")
  .description("print node.yaml's JSON Schema (draft 2020-12), generated from the schema bustled validates it with")
  .action(async () => {
    const { nodeConfigJsonSchema } = await import("../config.js");
    process.stdout.write(JSON.stringify(nodeConfigJsonSchema(), null, 2) + "\n");
  });

await runProgram(program, "bustled");
