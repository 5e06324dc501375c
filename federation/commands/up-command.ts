/** `bustle-cluster up`: a local N-node federation on loopback for trying bustle out; Ctrl-C stops it all. */
import { Command, InvalidArgumentError } from "commander";
import { join, resolve } from "node:path";
import { silentLogger } from "../../cluster/logger.js";
import { printError, runDaemon } from "../../cluster/program.js";
import type { LocalFederation } from "../local.js";
import { tempDir } from "../../cluster/temp.js";

const count = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new InvalidArgumentError("must be a whole number 1–9");
  return n;
};

export function upCommand(): Command {
  return new Command("up")
    .description(
      "run N nats-servers and N relays on 127.0.0.1, each node with its own homes, log and state; Ctrl-C stops them",
    )
    .option("--nodes <n>", "how many nodes", count, 3)
    .option("--dir <dir>", "where the nodes' folders go (kept afterwards; default a new folder in the temp dir)")
    .option("--tls", "with a CA and TLS, as init makes by default (off here: everything is on 127.0.0.1)")
    .action(async (opts: { nodes: number; dir?: string; tls?: boolean }) => {
      const { LocalFederation } = await import("../local.js");
      const dir = opts.dir ? resolve(opts.dir) : tempDir("bustle-up-").path;
      const fed = await LocalFederation.create({ dir, nodes: opts.nodes, tls: !!opts.tls });
      let stopping = false;
      await runDaemon(
        {
          start: async () => {
            try {
              await fed.startServers();
            } catch (err) {
              await fed.stop();
              throw err;
            }
            fed.startRelays();
            for (const n of fed.nodes) {
              void fed.relayExit(n.id).then((code) => {
                if (!stopping)
                  process.stderr.write(
                    `bustle-cluster: relay ${n.id} exited (${code}); see ${join(n.dir, "bustled.out")}\n`,
                  );
              });
            }
            process.stdout.write(banner(fed, dir, !!opts.tls) + "\n");
          },
          stop: async (signal) => {
            stopping = true;
            process.stderr.write(
              `\nbustle-cluster: ${signal === "SIGINT" ? "interrupted" : "terminated"}; stopping relays and servers…\n`,
            );
            // Said here: the daemon edge logs a failed stop, and this program keeps no log.
            await fed.stop().catch((err: unknown) => {
              printError(err, "bustle-cluster");
              throw err;
            });
            process.stderr.write(`bustle-cluster: stopped. Files are kept in ${dir}\n`);
          },
        },
        silentLogger,
      );
    });
}

/** What is running and how to try it. */
function banner(fed: LocalFederation, dir: string, tls: boolean): string {
  const first = fed.nodes[0]!;
  return [
    `bustle-cluster: ${fed.nodes.length}-node federation up in ${dir}`,
    ...fed.nodes.map(
      (n) =>
        `  ${n.id}: nats ${tls ? n.server.url.replace(/^nats:/, "tls:") : n.server.url}, monitor http://127.0.0.1:${n.server.spec.monitorPort}, homes ${n.homes}, log ${n.log}`,
    ),
    "Try it:",
    `  mkdir -p ${first.homes}/alice && echo 'hello from alice' >> ${first.homes}/alice/.bustle.spool`,
    `  bustle --log ${fed.nodes[fed.nodes.length - 1]!.log}`,
    `  bustle-cluster status --dir ${dir}`,
    "Ctrl-C stops everything.",
  ].join("\n");
}
