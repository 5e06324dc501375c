/** Runs `bustle-cluster` as a user would, without blocking the test's event loop (its writers keep writing meanwhile). */
import { spawn } from "node:child_process";
import { bin } from "../support/paths.js";

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function bustleCluster(...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin("federation/bin/bustle-cluster.js"), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    const kill = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(kill);
      resolve({ status, stdout, stderr });
    });
  });
}
