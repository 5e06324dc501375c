/**
 * A private machine for install tests: a mount and network namespace in which /etc, /var/lib,
 * /opt, /usr/local and /home are overlays on the real ones (writes land in a temporary folder,
 * the host never sees them) and loopback is the namespace's own (port 4222 is free in it). So
 * the installer, bustled and the `bustle` of a plain user run on the real system paths, as they
 * would on a fresh tilde. Needs root (unshare, overlayfs); close() ends everything it started.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { tempDir, type TempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";

export const OVERLAID = ["/etc", "/var/lib", "/opt", "/usr/local", "/home"] as const;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Run as this user (a name or uid, resolved inside the sandbox), with its primary group. */
  user?: string | number;
  /** The whole environment (PATH is added when missing). */
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  /** Extra setpriv flags (capabilities). */
  setpriv?: string[];
}

export class Sandbox {
  private readonly children = new Set<ChildProcess>();

  private constructor(
    private readonly holder: ChildProcess,
    private readonly tmp: TempDir,
  ) {}

  static async open(): Promise<Sandbox> {
    const tmp = tempDir("bustle-sandbox-");
    const mounts = OVERLAID.map(
      (d, i) =>
        `mkdir -p ${tmp.path}/u${i} ${tmp.path}/w${i} && mount -t overlay overlay -o lowerdir=${d},upperdir=${tmp.path}/u${i},workdir=${tmp.path}/w${i} ${d}`,
    ).join(" && ");
    const holder = spawn(
      "unshare",
      [
        "--mount",
        "--net",
        "--propagation",
        "private",
        "bash",
        "-c",
        `set -e; ip link set lo up; ${mounts}; echo ready; exec sleep infinity`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    holder.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    holder.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    let exited = false;
    holder.on("exit", () => (exited = true));
    const box = new Sandbox(holder, tmp);
    try {
      await waitFor(() => out.includes("ready") || exited, 10_000, "the sandbox's namespaces and overlays");
      if (exited) throw new Error(`cannot make the sandbox: ${out.trim()}`);
    } catch (err) {
      await box.close();
      throw err;
    }
    return box;
  }

  private argv(cmd: string[], opts: RunOptions): string[] {
    const env = { PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", ...(opts.env ?? {}) };
    const who =
      opts.user === undefined
        ? []
        : ["setpriv", `--reuid=${opts.user}`, `--regid=${opts.user}`, "--init-groups", ...(opts.setpriv ?? [])];
    // `--init-groups` needs a name in /etc/passwd; a bare uid gets no supplementary groups.
    if (typeof opts.user === "number") who.splice(who.indexOf("--init-groups"), 1, "--clear-groups");
    return [
      "--target",
      String(this.holder.pid),
      "--mount",
      "--net",
      "--",
      ...who,
      "env",
      "-i",
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      ...cmd,
    ];
  }

  /** Starts `cmd` inside; the sandbox stops it on close() if it is still running. */
  spawn(cmd: string[], opts: RunOptions = {}): ChildProcess {
    const child = spawn("nsenter", this.argv(cmd, opts), { stdio: ["ignore", "pipe", "pipe"], cwd: opts.cwd ?? "/" });
    this.children.add(child);
    child.on("exit", () => this.children.delete(child));
    return child;
  }

  /** Runs `cmd` inside to completion (killed and rejected after `timeoutMs`). */
  run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = this.spawn(cmd, opts);
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`${cmd.join(" ")} did not finish within ${opts.timeoutMs ?? 60_000} ms; stderr: ${stderr}`));
      }, opts.timeoutMs ?? 60_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** A shell command inside, as root; throws with its output unless it exits 0. */
  async sh(script: string, opts: RunOptions = {}): Promise<string> {
    const r = await this.run(["bash", "-c", script], opts);
    if (r.code !== 0) throw new Error(`sandbox: \`${script}\` exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** Stops what it started (SIGTERM, then SIGKILL) and the namespaces, and removes the overlays' data. */
  async close(): Promise<void> {
    for (const c of this.children) c.kill("SIGTERM");
    await waitFor(() => this.children.size === 0, 15_000, "the sandbox's processes to stop").catch(() => {
      for (const c of this.children) c.kill("SIGKILL");
    });
    if (this.holder.exitCode === null) {
      this.holder.kill("SIGKILL");
      await waitFor(
        () => this.holder.exitCode !== null || this.holder.signalCode !== null,
        10_000,
        "the sandbox holder to exit",
      ).catch(() => {});
    }
    this.tmp.remove();
  }
}
