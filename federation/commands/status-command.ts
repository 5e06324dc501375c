/** `bustle-cluster status`: routes, meta leader, stream replicas and lag, and nodes' log positions. */
import { Command, InvalidArgumentError } from "commander";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { BustleError, ConfigError } from "../../cluster/errors.js";
import { formatDuration, parseDuration } from "../../cluster/duration.js";

const timeout = (v: string) => {
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('a duration like "90s" or "5m"');
  return ms;
};
import { locateNode } from "../../cluster/config/node-location.js";

export function statusCommand(): Command {
  return new Command("status")
    .description(
      "report the federation: routes up, JetStream meta leader, stream replicas and lag, each node's log against the stream head",
    )
    .option(
      "-c, --config <file>",
      "a node.yaml to connect with (its folder's cluster.json names the servers; default $BUSTLE_CONFIG, else /etc/bustle/node.yaml, else the node running on this machine)",
    )
    .option("--dir <dir>", "a folder made by `bustle-cluster up` or `init`: report every node in it")
    .option("--state <dir>", "this node's state dir (for its log position), when node.yaml does not set state.dir")
    .option("--json", "print the report as JSON")
    .option(
      "--wait-healthy",
      "wait until routes, meta leader, stream replicas and every log are current (exit 0), or say what is not at the timeout (exit 1)",
    )
    .option("--timeout <duration>", "with --wait-healthy: how long to wait (e.g. 90s, 5m)", timeout, 120_000)
    .action(
      async (opts: {
        config?: string;
        dir?: string;
        state?: string;
        json?: boolean;
        waitHealthy?: boolean;
        timeout: number;
      }) => {
        const { readMap, readNodeFile, nodeFileView, gatherFederationStatus } = await import("../status.js");
        const { loadNodeConfig, nodeDataPaths } = await import("../../relay/config.js");
        const { logPositionPath } = await import("../../relay/log-position.js");
        let node;
        let map: import("../init.js").FederationMap | undefined;
        let positions: { id: string; file: string }[] = [];
        if (opts.dir) {
          const dir = resolve(opts.dir);
          const first = existsSync(dir)
            ? readdirSync(dir).find(
                (d) => existsSync(join(dir, d, "cluster.json")) && existsSync(join(dir, d, "node.yaml")),
              )
            : undefined;
          if (!first)
            throw new ConfigError(
              `${dir}: no node folders (with cluster.json and node.yaml) — is it a folder made by bustle-cluster init or up?`,
            );
          map = readMap(join(dir, first));
          const ids = [...(map?.servers.map((s) => s.id) ?? []), ...(map?.members ?? [])];
          const local = ids.find((id) => existsSync(join(dir, id, "node.yaml"))) ?? first;
          node = readNodeFile(join(dir, local, "node.yaml"));
          positions = ids
            .map((id) => ({ id, state: nodeDataPaths(join(dir, id)).state }))
            .filter((n) => existsSync(n.state))
            .map((n) => ({ id: n.id, file: logPositionPath(n.state) }));
        } else {
          const where = locateNode(opts.config);
          if (where.file !== undefined) {
            const file = resolve(where.file);
            if (!existsSync(file))
              throw new ConfigError(`${file} does not exist: give --config FILE (a node.yaml) or --dir DIR`);
            node = readNodeFile(file);
            map = readMap(dirname(file));
          } else {
            // No node.yaml: the node running on this machine with the embedded default.
            node = nodeFileView(loadNodeConfig(undefined, {}, where.dataDir), join(where.dataDir, "node.yaml"));
          }
          const state = opts.state ? resolve(opts.state) : node.stateDir;
          if (state) positions = [{ id: node.id, file: logPositionPath(state) }];
        }
        const gather = () => gatherFederationStatus({ node, map, positions });
        if (opts.waitHealthy) {
          const { waitHealthy } = await import("../healthy.js");
          const { status, unhealthy } = await waitHealthy(gather, opts.timeout);
          if (unhealthy.length)
            throw new BustleError(`not healthy after ${formatDuration(opts.timeout)}: ${unhealthy.join("; ")}`);
          if (opts.json) process.stdout.write(JSON.stringify(status, null, 2) + "\n");
          else
            process.stdout.write(
              `bustle-cluster: healthy (${status!.servers.filter((s) => s.reachable).length} servers, meta leader ${status!.metaLeader}, ${status!.logs.length} logs current)\n`,
            );
          return;
        }
        const st = await gather();
        if (opts.json) process.stdout.write(JSON.stringify(st, null, 2) + "\n");
        else process.stdout.write((await import("../status-format.js")).formatFederationStatus(st));
      },
    );
}
