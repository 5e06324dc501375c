/** Runs fixtures/watch-child.js as another uid or under `unshare`, collecting its JSON lines. */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { waitFor } from "../../../cluster/wait-for.js";

export const CHILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "watch-child.js");

export interface Child {
  proc: ChildProcess;
  lines: Array<Record<string, any>>;
  stderr: string[];
  events(): Array<Record<string, any>>;
  logs(level?: string): Array<Record<string, any>>;
  ready(): Promise<void>;
  stop(): Promise<void>;
}

export function runChild(command: string, args: string[], options: SpawnOptions = {}): Child {
  const proc = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  const lines: Array<Record<string, any>> = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stdout! }).on("line", (l) => {
    try {
      lines.push(JSON.parse(l));
    } catch {
      stderr.push(l);
    }
  });
  createInterface({ input: proc.stderr! }).on("line", (l) => void stderr.push(l));
  let exited = false;
  proc.on("exit", () => void (exited = true));
  return {
    proc,
    lines,
    stderr,
    events: () => lines.filter((l) => l.type === "event").map((l) => l.event),
    logs: (level) => lines.filter((l) => l.type === "log" && (!level || l.level === level)),
    ready: async () => {
      await waitFor(
        () => {
          if (exited) throw new Error(`the watcher process exited: ${stderr.join("\n")}`);
          return lines.some((l) => l.type === "ready");
        },
        20_000,
        "the watcher process to be ready",
      );
    },
    stop: async () => {
      if (exited) return;
      proc.kill("SIGTERM");
      await waitFor(() => exited, 10_000, "the watcher process to exit").catch(() => proc.kill("SIGKILL"));
    },
  };
}
