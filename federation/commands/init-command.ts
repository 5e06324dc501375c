/** `bustle-cluster init`: generate every node's server conf, node.yaml, credentials and certificates. */
import { Command } from "commander";
import { resolve } from "node:path";
import { checkPlan, parseBotSpec, parseNodeSpec, UsageError, type FederationPlan } from "../plan.js";

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function initCommand(): Command {
  return new Command("init")
    .description("write DIR/<ID>/nats-server.conf, node.yaml, secrets/ (and tls/) for every node of a federation")
    .requiredOption("--out <dir>", "folder to write (existing passwords, CA and certificates in it are kept)")
    .option(
      "--node <spec>",
      "a core node running a routed JetStream server: ID=HOST:CLIENT_PORT:CLUSTER_PORT[:MONITOR_PORT] (repeat)",
      collect,
      [],
    )
    .option(
      "--member <id>",
      "a node that runs only a relay, connecting to the core servers as a client (repeat)",
      collect,
      [],
    )
    .option(
      "--control <id>",
      "a node that runs a control server and gets a control credential (repeat; default: every --node, no --member)",
      collect,
    )
    .option(
      "--bot <spec>",
      "a bot and the control nodes that may run and steer it: BOT=NODE[,NODE...], or BOT for every control node (repeat)",
      collect,
      [],
    )
    .option(
      "--tls",
      "the default, accepted so scripts that say it keep working: a CA and per-node certificates, mutual TLS on routes, TLS for clients",
    )
    .option("--no-tls", "no CA or certificates: plain TCP")
    .option("--name <cluster>", "the cluster's name", "bustle")
    .option(
      "--install-dir <dir>",
      "where each node's folder will be installed on its host (paths inside the confs); default: the folder itself",
    )
    .option(
      "--store-dir <dir>",
      "JetStream store directory on each host (default DIR/<ID>/jetstream, or /var/lib/bustle-nats with --install-dir)",
    )
    .action(async function (
      this: Command,
      opts: {
        out: string;
        node: string[];
        member: string[];
        control?: string[];
        bot: string[];
        tls?: boolean;
        name: string;
        installDir?: string;
        storeDir?: string;
      },
    ) {
      let plan: FederationPlan;
      try {
        plan = checkPlan({
          cluster: opts.name,
          servers: opts.node.map(parseNodeSpec),
          members: opts.member,
          control: opts.control,
          bots: opts.bot.map(parseBotSpec),
        });
      } catch (err) {
        if (err instanceof UsageError) this.error(`error: ${err.message}`);
        throw err;
      }
      const { initFederation } = await import("../init.js");
      const out = resolve(opts.out);
      const map = initFederation(plan, out, {
        tls: opts.tls !== false,
        installDir: opts.installDir ? resolve(opts.installDir) : undefined,
        storeDir: opts.storeDir,
      });
      const tls = map.tls ? ", tls/" : "";
      const ctl = (id: string) => {
        if (!map.control.includes(id)) return "";
        const bots = map.bots.filter((b) => b.nodes.includes(id)).map((b) => b.id);
        return `, control.yaml (bots it may run: ${bots.join(", ") || "none"})`;
      };
      const lines = [
        `bustle-cluster: wrote federation "${map.cluster}" to ${out}`,
        ...map.servers.map(
          (s) =>
            `  ${s.id}/  nats-server.conf (routes to ${map.servers.length - 1} other server${map.servers.length === 2 ? "" : "s"}), node.yaml, secrets/${tls}${ctl(s.id)}`,
        ),
        ...map.members.map(
          (m) => `  ${m}/  node.yaml, secrets/${tls}${ctl(m)}${map.control.includes(m) ? "" : " (relay only)"}`,
        ),
        `  admin/  admin.password, admin.yaml: stream and KV administration — keep it with the core operators`,
        `  stream BUSTLE: R${Math.min(3, map.servers.length)}${map.servers.length < 3 ? " (give 3 servers for R3)" : ""}`,
        ...(map.tls
          ? [`  CA key: ${out}/ca/ca-key.pem — keep it off the nodes`]
          : ["  TLS: off (--no-tls): passwords and events cross the network in clear text"]),
        "On each core host:  nats-server -c <ID>/nats-server.conf   and   bustled --config <ID>/node.yaml",
        "Copy each node's folder to its host only, and admin/ to no node.",
      ];
      process.stdout.write(lines.join("\n") + "\n");
    });
}
