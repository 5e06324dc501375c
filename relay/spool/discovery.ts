/**
 * Finding spools: every directory entry of the homes root is a candidate home, named after its
 * user. Changes are noticed with inotify (Node's fs.watch) on the homes root (new homes) and on
 * each home (non-recursive, only `.bustle.spool` matters); the reader's periodic rescan is the
 * safety net for anything inotify misses (watch limits, network file systems, races).
 */
import { watch, type FSWatcher } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../cluster/logger.js";
import { SPOOL_NAME } from "./safe-open.js";

/** A user name we are willing to put into events (`~name`) and subjects of audit records. */
export const USER_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;

export const isUserName = (s: string): boolean => USER_NAME_RE.test(s) && s !== "." && s !== "..";

export type ListResult = { ok: true; names: string[] } | { ok: false; code: string };

/** The entry names under the homes root (files included; the caller checks each). */
export async function listHomes(homesRoot: string): Promise<ListResult> {
  try {
    return { ok: true, names: (await readdir(homesRoot)).sort() };
  } catch (err) {
    return { ok: false, code: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
}

export interface HomeWatchers {
  /** Makes sure the homes root and each of `users`' homes is watched; drops watchers of others. */
  sync(users: Iterable<string>): void;
  close(): void;
}

/**
 * inotify watchers. `onHomes` fires when the homes root changes, `onSpool(user)` when
 * something named `.bustle.spool` (or an unnamed change) happens in a home. Watch errors are
 * logged once per path and otherwise ignored: the rescan keeps things going.
 */
export function createHomeWatchers(
  homesRoot: string,
  log: Logger,
  onHomes: () => void,
  onSpool: (user: string) => void,
): HomeWatchers {
  let root: FSWatcher | undefined;
  const homes = new Map<string, FSWatcher>();
  const warned = new Set<string>();
  let closed = false;

  const tryWatch = (
    path: string,
    listener: (event: string, name: string | Buffer | null) => void,
    onGone: () => void,
  ): FSWatcher | undefined => {
    try {
      const w = watch(path, { persistent: false }, listener);
      w.on("error", () => {
        w.close();
        onGone();
      });
      warned.delete(path);
      return w;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && !warned.has(path)) {
        warned.add(path);
        log.warn("cannot watch; relying on the periodic rescan", { path, code });
      }
      return undefined;
    }
  };

  return {
    sync(users) {
      if (closed) return;
      root ??= tryWatch(
        homesRoot,
        () => onHomes(),
        () => (root = undefined),
      );
      const want = new Set(users);
      for (const [user, w] of homes) {
        if (!want.has(user)) {
          w.close();
          homes.delete(user);
        }
      }
      for (const user of want) {
        if (homes.has(user)) continue;
        const w = tryWatch(
          join(homesRoot, user),
          (_event, name) => {
            if (name === null || name.toString() === SPOOL_NAME) onSpool(user);
          },
          () => homes.delete(user),
        );
        if (w) homes.set(user, w);
      }
    },
    close() {
      closed = true;
      root?.close();
      root = undefined;
      for (const w of homes.values()) w.close();
      homes.clear();
    },
  };
}
