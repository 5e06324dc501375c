/**
 * The kernel's inotify limits, read for clear messages: what the limit is, what to raise it to,
 * and how many watches this process holds (for the benchmark and diagnostics).
 */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

export type WatchFailureKind = "limit" | "instances" | "unreadable" | "vanished" | "other";

/** Sorts an error from the watch library by what can be done about it. */
export function classifyWatchError(err: unknown): WatchFailureKind {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown })?.code;
  if (code === "ENOSPC" || /No space left on device/i.test(message)) return "limit";
  if (code === "EMFILE" || /Too many open files/i.test(message)) return "instances";
  if (code === "EACCES" || code === "EPERM" || /Permission denied|Operation not permitted/i.test(message))
    return "unreadable";
  if (code === "ENOENT" || code === "ENOTDIR" || /No such file or directory|Not a directory/i.test(message))
    return "vanished";
  return "other";
}

function readNumber(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, "utf8").trim());
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The effective per-user watch limit (the sysctl, or a user namespace's lower limit). */
export function maxUserWatches(): number | undefined {
  const values = [
    readNumber("/proc/sys/fs/inotify/max_user_watches"),
    readNumber("/proc/sys/user/max_inotify_watches"),
  ].filter((n): n is number => n !== undefined);
  return values.length ? Math.min(...values) : undefined;
}

/** The one line an admin needs when the watch limit is reached. */
export function limitMessage(unwatched: number, total: number, retryMs: number): string {
  const max = maxUserWatches();
  const suggest = Math.max(524_288, (max ?? 0) * 2);
  return (
    `the kernel's inotify watch limit is reached${max ? ` (fs.inotify.max_user_watches = ${max}, shared by all of this user's processes)` : ""}: ` +
    `${unwatched} of ${total} home directories are not watched and give no ambient events. ` +
    `Raise it with \`sysctl fs.inotify.max_user_watches=${suggest}\` (persist it in /etc/sysctl.d/90-bustle.conf); ` +
    `bustled keeps running and retries every ${Math.round(retryMs / 1000)} s.`
  );
}

export function instancesMessage(): string {
  const max = readNumber("/proc/sys/fs/inotify/max_user_instances");
  return (
    `the kernel refused a new inotify instance (too many open${max ? `; fs.inotify.max_user_instances = ${max}` : ""}): ` +
    `raise it with \`sysctl fs.inotify.max_user_instances=${Math.max(1024, (max ?? 0) * 2)}\` or the open-files limit (LimitNOFILE=) of bustled's service; ` +
    "bustled keeps running and retries."
  );
}

/** How many inotify watches this process holds (every inotify instance it owns), or undefined off Linux. */
export function ownWatchCount(): number | undefined {
  try {
    let total = 0;
    for (const fd of readdirSync("/proc/self/fd")) {
      let target: string;
      try {
        target = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        continue;
      }
      if (target !== "anon_inode:inotify") continue;
      const info = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
      total += info.split("\n").filter((l) => l.startsWith("inotify wd:")).length;
    }
    return total;
  } catch {
    return undefined;
  }
}
