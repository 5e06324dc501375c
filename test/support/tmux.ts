/**
 * A test's own tmux server (on a socket in the test's folder): stopping it so that nothing is
 * still writing in that folder when the test removes it.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { waitFor } from "../../cluster/wait-for.js";

/** Running, and not a zombie waiting for a parent that is gone. */
export function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

/**
 * `tmux kill-server` returns before the panes' programs have gone: a pane's shell still writing
 * its exit file made the folder's removal fail (ENOTEMPTY). So this waits for them (bounded).
 */
export async function stopTmuxServer(tmuxBin: string, sock: string): Promise<void> {
  let panes: number[];
  try {
    panes = execFileSync(tmuxBin, ["-S", sock, "list-panes", "-a", "-F", "#{pane_pid}"], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
    execFileSync(tmuxBin, ["-S", sock, "kill-server"], { stdio: "ignore" });
  } catch {
    return; // no server left: nothing of it runs
  }
  await waitFor(() => panes.every((pid) => !alive(pid)), 10_000, "the tmux panes' programs to exit");
}
