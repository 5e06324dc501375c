/** `bustle-cluster init`: generate every node's server conf, node.yaml, credentials and certificates. */
import { Command } from "commander";
import { resolve } from "node:path";
import { checkPlan, parseNodeSpec, UsageError, type ServerNode } from "../plan.js";

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function initCommand(): Command {
  return new Command("init")
    .description("write DIR/<ID>/nats-server.conf, node.yaml, secrets/ (and tls/) for every node of a federation")
    .requiredOption("--out <dir>", "folder to write (existing passwords, CA and certificates in it are kept)")
    .option("--node <spec>", "a core node running a routed JetStream server: ID=HOST:CLIENT_PORT:CLUSTER_PORT[:MONITOR_PORT] (repeat)", collect, [])
    .option("--member <id>", "a node that runs only a relay, connecting to the core servers as a client (repeat)", collect, [])
    .option("--tls", "make a CA and per-node certificates: mutual TLS on routes, TLS for clients")
    .option("--name <cluster>", "the cluster's name", "bustle")
    .option("--install-dir <dir>", "where each node's folder will be installed on its host (paths inside the confs); default: the folder itself")
    .option("--store-dir <dir>", "JetStream store directory on each host (default DIR/<ID>/jetstream, or /var/lib/bustle-nats with --install-dir)")
    .action(async function (this: Command, opts: { out: string; node: string[]; member: string[]; tls?: boolean; name: string; installDir?: string; storeDir?: string }) {
      let servers: ServerNode[];
      try {
        servers = opts.node.map(parseNodeSpec);
        checkPlan({ cluster: opts.name, servers, members: opts.member });
      } catch (err) {
        if (err instanceof UsageError) this.error(`error: ${err.message}`);
        throw err;
      }
      const { initFederation } = await import("../init.js");
      const out = resolve(opts.out);
      const map = initFederation({ cluster: opts.name, servers, members: opts.member }, out, {
        tls: !!opts.tls,
        installDir: opts.installDir ? resolve(opts.installDir) : undefined,
        storeDir: opts.storeDir,
      });
      const lines = [
        `bustle-cluster: wrote federation "${map.cluster}" to ${out}`,
        ...map.servers.map((s) => `  ${s.id}/  nats-server.conf (routes to ${map.servers.length - 1} other server${map.servers.length === 2 ? "" : "s"}), node.yaml, secrets/${opts.tls ? ", tls/" : ""}`),
        ...map.members.map((m) => `  ${m}/  node.yaml, secrets/${opts.tls ? ", tls/" : ""} (relay only)`),
        `  stream BUSTLE: R${Math.min(3, map.servers.length)}${map.servers.length < 3 ? " (give 3 servers for R3)" : ""}`,
        ...(opts.tls ? [`  CA key: ${out}/ca/ca-key.pem — keep it off the nodes`] : []),
        "On each core host:  nats-server -c <ID>/nats-server.conf   and   bustled --config <ID>/node.yaml",
        "Copy each node's folder to its host only: a core server's conf holds every node's password.",
      ];
      process.stdout.write(lines.join("\n") + "\n");
    });
}
