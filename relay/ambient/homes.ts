/**
 * The home directories under the homes root: which names are users, and which entries are
 * directories (a home may be a symlink to one; its real path is what gets watched).
 */
import { opendirSync, realpathSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";

/** Names that can be a user in an event (`~alice`): no dots first, no spaces or odd bytes. */
export const USER_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;

export interface Home {
  user: string;
  /** The path under the homes root. */
  path: string;
  /** The real path (what the watch library is given). */
  real: string;
  /** Device and inode: a home removed and made again is a new home. */
  identity: string;
}

export interface HomeListing {
  homes: Home[];
  /** Entries that are not users (odd names), for one log line. */
  skipped: string[];
}

/** Lists the homes under `root`; rejects when the root itself cannot be read. */
export async function listHomes(root: string): Promise<HomeListing> {
  const entries = await readdir(root, { withFileTypes: true });
  const homes: Home[] = [];
  const skipped: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    if (!USER_RE.test(entry.name)) {
      skipped.push(entry.name);
      continue;
    }
    const home = describeHome(root, entry.name, entry.isSymbolicLink());
    if (home) homes.push(home);
  }
  homes.sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0)); // a stable order: the same homes are watched first after a limit
  return { homes, skipped };
}

/**
 * One home, or undefined when it is gone or not a directory. Synchronous on purpose: 5,000
 * stats take milliseconds, 5,000 trips through the thread pool took a second on a busy host.
 */
export function describeHome(root: string, user: string, symlink: boolean): Home | undefined {
  const path = join(root, user);
  try {
    const st = statSync(path);
    if (!st.isDirectory()) return undefined;
    return { user, path, real: symlink ? realpathSync(path) : path, identity: `${st.dev}:${st.ino}` };
  } catch {
    return undefined;
  }
}

/**
 * Throws (EACCES, ENOENT…) unless the watcher may open `dir` to list it, what a crawl needs.
 * Tried, not asked: access(2) judges by the real uid and drops capabilities, so under the
 * systemd unit (the bustle user with CAP_DAC_READ_SEARCH) it called every closed home unreadable.
 */
export function assertReadable(dir: string): void {
  opendirSync(dir).closeSync();
}

/** True when the watcher may open `dir` to list it (assertReadable). */
export function readable(dir: string): boolean {
  try {
    assertReadable(dir);
    return true;
  } catch {
    return false;
  }
}
