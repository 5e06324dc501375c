/**
 * The home directories under the homes root: which names are users, and which entries are
 * directories (a home may be a symlink to one; its real path is what gets watched).
 */
import { closeSync, constants, fstatSync, openSync, realpathSync, statSync } from "node:fs";
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
  /** Whether the watcher could open it to list it when it was listed (what a crawl needs). */
  listable: boolean;
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
  const base = join(root, "/"); // the root with one trailing "/": a home's path is base + name
  for (const entry of entries) {
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    if (!USER_RE.test(entry.name)) {
      skipped.push(entry.name);
      continue;
    }
    const home = describeHome(base, entry.name, entry.isSymbolicLink());
    if (home) homes.push(home);
  }
  homes.sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0)); // a stable order: the same homes are watched first after a limit
  return { homes, skipped };
}

/**
 * One home, or undefined when it is gone or not a directory. One open of the directory tells
 * both whether the watcher may list it and, with an fstat, its identity (a `statSync` and an
 * `opendirSync` per home cost four times as much: Node builds a `Dir` with two promisified
 * methods for each). Synchronous on purpose: 5,000 opens take milliseconds, 5,000 trips through
 * the thread pool took a second on a busy host. `base` is the homes root ending in "/"; `user` is
 * an entry's name (no "/" in it).
 */
export function describeHome(base: string, user: string, symlink: boolean): Home | undefined {
  const path = base + user; // not path.join: its normalising was a fifth of the listing's CPU
  try {
    const real = symlink ? realpathSync(path) : path;
    let fd: number;
    try {
      fd = openDir(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EACCES") return undefined; // gone, or not a directory
      const st = statSync(path); // a closed home is still a home: watched alone, retried
      return st.isDirectory() ? { user, path, real, identity: `${st.dev}:${st.ino}`, listable: false } : undefined;
    }
    try {
      const st = fstatSync(fd);
      return { user, path, real, identity: `${st.dev}:${st.ino}`, listable: true };
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * Opens `dir` the way a crawl does (for reading, a directory only: anything else fails with
 * ENOTDIR, never blocks as a FIFO would). Symlinks are followed, as `stat` does.
 */
function openDir(dir: string): number {
  return openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NONBLOCK);
}

/**
 * Throws (EACCES, ENOENT…) unless the watcher may open `dir` to list it, what a crawl needs.
 * Tried, not asked: access(2) judges by the real uid and drops capabilities, so under the
 * systemd unit (the bustle user with CAP_DAC_READ_SEARCH) it called every closed home unreadable.
 */
export function assertReadable(dir: string): void {
  closeSync(openDir(dir));
}
