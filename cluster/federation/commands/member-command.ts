/**
 * `bustle-cluster add-member` / `remove-member`: a tilde joins or leaves a running federation.
 * Both change DIR/federation.json's plan and re-run init over the folder (plan-file.ts); the core
 * servers take the change on a config reload, without a restart.
 */
import { Command } from "commander";
import { join, resolve } from "node:path";
import { UsageError } from "../plan.js";
import type { FederationMap } from "../init.js";

/** What the core operators do next: install the new confs and reload (no restart). */
const reloadSteps = (dir: string, map: FederationMap) => [
  `Then on each core host (${map.servers.map((s) => s.id).join(", ")}): install ${dir}/<ID>/nats-server.conf and reload it,`,
  `  systemctl reload bustle-nats   (or: nats-server --signal reload=<pid>); the server keeps running.`,
];

async function change(dir: string, what: (plan: import("../plan.js").FederationPlan) => import("../plan.js").FederationPlan, cmd: Command): Promise<FederationMap> {
  const { changeFederation } = await import("../plan-file.js");
  try {
    return changeFederation(dir, what);
  } catch (err) {
    if (err instanceof UsageError) cmd.error(`error: ${err.message}`);
    throw err;
  }
}

export function addMemberCommand(): Command {
  return new Command("add-member")
    .description("a new tilde joins: write DIR/<ID>/ (node.yaml, secrets/, tls/) and every core server's updated conf")
    .argument("<id>", "the new node's id")
    .requiredOption("--dir <dir>", "the federation's folder, written by bustle-cluster init")
    .option("--control", "it runs a control server too (a control credential and control.yaml)")
    .action(async function (this: Command, id: string, opts: { dir: string; control?: boolean }) {
      const dir = resolve(opts.dir);
      const { withMember } = await import("../plan-file.js");
      const map = await change(dir, (plan) => withMember(plan, id, opts.control), this);
      process.stdout.write([
        `bustle-cluster: ${id} joins federation "${map.cluster}"`,
        `  ${join(dir, id)}/  node.yaml, secrets/${map.tls ? ", tls/" : ""}${map.control.includes(id) ? ", control.yaml" : " (relay only)"}`,
        `  ${map.servers.map((s) => `${s.id}/nats-server.conf`).join(", ")}: now know ${id}'s user`,
        ...reloadSteps(dir, map),
        `Copy ${join(dir, id)}/ to the new tilde (as /etc/bustle) and start it there: systemctl enable --now bustled`,
        `Its bustle.log starts with the retained history. Check with: bustle-cluster status --config /etc/bustle/node.yaml`,
      ].join("\n") + "\n");
    });
}

export function removeMemberCommand(): Command {
  return new Command("remove-member")
    .description("a tilde leaves: drop its users (and bot grants) from every core server's conf and its passwords from DIR/<ID>/secrets")
    .argument("<id>", "the member's id")
    .requiredOption("--dir <dir>", "the federation's folder, written by bustle-cluster init")
    .action(async function (this: Command, id: string, opts: { dir: string }) {
      const dir = resolve(opts.dir);
      const { withoutMember, forgetSecrets } = await import("../plan-file.js");
      const map = await change(dir, (plan) => withoutMember(plan, id), this);
      forgetSecrets(dir, id);
      process.stdout.write([
        `bustle-cluster: ${id} leaves federation "${map.cluster}"`,
        `  ${map.servers.map((s) => `${s.id}/nats-server.conf`).join(", ")}: ${id}'s users removed; ${join(dir, id)}/secrets/ deleted`,
        ...reloadSteps(dir, map),
        `On reload the servers close ${id}'s connections and refuse its credentials; its past events stay in the stream and every log.`,
      ].join("\n") + "\n");
    });
}
