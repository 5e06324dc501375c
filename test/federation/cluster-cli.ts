/** Runs `bustle-cluster` as a user would, without blocking the test's event loop (its writers keep writing meanwhile). */
import { BUSTLE_CLUSTER, runCli, type CliResult } from "../support/cli.js";

export const bustleCluster = (...args: string[]): Promise<CliResult> => runCli(BUSTLE_CLUSTER, args);
