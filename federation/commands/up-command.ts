/** `bustle-cluster up`: a local N-node federation on loopback for trying bustle out; Ctrl-C stops it all. */
import { Command, InvalidArgumentError } from "commander";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const count = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new InvalidArgumentError("must be a whole number 1–9");
  return n;
};

export function upCommand(): Command {
  return new Command("up")
    .description("run N nats-servers and N relays on 127.0.0.1, each node with its own homes, log and state; Ctrl-C stops them")
    .option("--nodes <n>", "how many nodes", count, 3)
    .option("--dir <dir>", "where the nodes' folders go (kept afterwards; default a new folder in the temp dir)")
    .option("--tls", "with a CA and TLS, as init --tls makes")
    .action(async (opts: { nodes: number; dir?: string; tls?: boolean }) => {
      const { LocalFederation } = await import("../local.js");
      const dir = opts.dir ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), "bustle-up-"));
      const fed = await LocalFederation.create({ dir, nodes: opts.nodes, tls: !!opts.tls });
      let stopping = false;
      const stop = async (why: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`\nbustle-cluster: ${why}; stopping relays and servers…\n`);
        await fed.stop();
        process.stderr.write(`bustle-cluster: stopped. Files are kept in ${dir}\n`);
        process.exit(0);
      };
      process.on("SIGINT", () => void stop("interrupted"));
      process.on("SIGTERM", () => void stop("terminated"));
      try {
        await fed.startServers();
      } catch (err) {
        await fed.stop();
        throw err;
      }
      fed.startRelays();
      for (const n of fed.nodes) {
        void fed.relayExit(n.id).then((code) => {
          if (!stopping) process.stderr.write(`bustle-cluster: relay ${n.id} exited (${code}); see ${join(n.dir, "bustled.out")}\n`);
        });
      }
      const first = fed.nodes[0]!;
      const lines = [
        `bustle-cluster: ${fed.nodes.length}-node federation up in ${dir}`,
        ...fed.nodes.map((n) => `  ${n.id}: nats ${opts.tls ? n.server.url.replace(/^nats:/, "tls:") : n.server.url}, monitor http://127.0.0.1:${n.server.spec.monitorPort}, homes ${n.homes}, log ${n.log}`),
        "Try it:",
        `  mkdir -p ${first.homes}/alice && echo 'hello from alice' >> ${first.homes}/alice/.bustle.spool`,
        `  bustle --log ${fed.nodes[fed.nodes.length - 1]!.log}`,
        `  bustle-cluster status --dir ${dir}`,
        "Ctrl-C stops everything.",
      ];
      process.stdout.write(lines.join("\n") + "\n");
      await new Promise(() => {}); // runs until a signal
    });
}
