/**
 * Finding spools: every directory entry of the homes root is a candidate home, named after its
 * user. Changes are noticed with inotify (Node's fs.watch) on the homes root (new homes) and on
 * the homes the reader wants to watch itself (non-recursive, only `.bustle.spool` matters); the
 * reader's periodic rescan is the safety net for anything inotify misses (watch limits, network
 * file systems, races).
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
  /**
   * Makes sure the homes root is watched, and of `users`' homes those `wanted` says; drops the
   * watchers of the others.
   */
  sync(users: Iterable<string>): void;
  /** Decides one home of the last `sync` again (`wanted` may answer differently now). */
  update(user: string): void;
  close(): void;
}

/** Errors that say the kernel's inotify budget is spent: said once, not once per home. */
const LIMIT_CODES = new Set(["ENOSPC", "EMFILE"]);

/**
 * inotify watchers. `onHomes` fires when the homes root changes, `onSpool(user, pathChanged)`
 * when something named `.bustle.spool` (or an unnamed change) happens in a home that
 * `wanted(user)` says to watch, or to the home itself; `pathChanged` is false only for a plain
 * change of the spool's content or attributes (the name still names the same file). Watch
 * errors are logged once per path (the limit once) and otherwise ignored: the rescan keeps
 * things going.
 */
export function createHomeWatchers(
  homesRoot: string,
  log: Logger,
  onHomes: () => void,
  onSpool: (user: string, pathChanged: boolean) => void,
  wanted: (user: string) => boolean = () => true,
): HomeWatchers {
  let root: FSWatcher | undefined;
  const homes = new Map<string, FSWatcher>();
  let listed = new Set<string>();
  const warned = new Set<string>();
  let limitWarned = false;
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
      limitWarned = false;
      return w;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code && LIMIT_CODES.has(code)) {
        if (!limitWarned)
          log.warn("cannot watch homes (inotify limit); relying on the periodic rescan", { path, code });
        limitWarned = true;
      } else if (code !== "ENOENT" && !warned.has(path)) {
        warned.add(path);
        log.warn("cannot watch; relying on the periodic rescan", { path, code });
      }
      return undefined;
    }
  };

  const update = (user: string) => {
    const w = homes.get(user);
    if (!listed.has(user) || !wanted(user)) {
      w?.close();
      homes.delete(user);
      return;
    }
    if (w) return;
    const made = tryWatch(
      join(homesRoot, user),
      (event, name) => {
        const what = name?.toString();
        // Events of the watched home itself (moved, deleted, re-owned) come named after it.
        if (what === SPOOL_NAME) onSpool(user, event === "rename");
        else if (what === undefined || what === user) onSpool(user, true);
      },
      () => {
        if (homes.get(user) === made) homes.delete(user);
      },
    );
    if (made) homes.set(user, made);
  };

  return {
    sync(users) {
      if (closed) return;
      root ??= tryWatch(
        homesRoot,
        () => onHomes(),
        () => (root = undefined),
      );
      const before = listed;
      listed = new Set(users);
      for (const user of before) if (!listed.has(user)) update(user);
      for (const user of listed) update(user);
    },
    update(user) {
      if (!closed) update(user);
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
