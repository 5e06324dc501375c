/**
 * One home directory under @parcel/watcher: one inotify watch per directory (never per file),
 * symlinks not followed, the rules' unwatchable dot-paths skipped. A home's failure stays that
 * home's: an unreadable directory inside it is found and skipped, and the home is retried.
 */
import { opendir } from "node:fs/promises";
import { join, relative } from "node:path";
import parcel from "@parcel/watcher";
import { classifyWatchError } from "./inotify.js";

export type ChangeEvent = { path: string; type: "create" | "update" | "delete" };

export interface HomeWatch {
  /** Stops watching; never rejects (a vanished home's watches are already gone). */
  close(): Promise<void>;
  /** Directories skipped because they could not be read (relative to the home). */
  readonly skipped: readonly string[];
}

export interface HomeWatchOptions {
  /** The home's real path (symlinks resolved). */
  dir: string;
  ignore: RegExp | undefined;
  onChanges(events: ChangeEvent[]): void;
  /** The library gave up on this home after it was watched (its watches are gone). */
  onFailure(err: Error): void;
}

/**
 * Starts watching a home. Resolves once every directory in it is watched; rejects with the
 * library's error when that is impossible (classify it with classifyWatchError). The caller
 * closes the returned watch.
 */
export async function watchHome(opts: HomeWatchOptions): Promise<HomeWatch> {
  try {
    return await subscribe(opts, []);
  } catch (err) {
    if (classifyWatchError(err) !== "unreadable") throw err;
    // The library's crawl stops at the first unreadable directory without naming it: find them all.
    const unreadable = await findUnreadable(opts.dir, opts.ignore);
    if (unreadable.length === 0) throw err;
    return subscribe(opts, unreadable);
  }
}

async function subscribe(opts: HomeWatchOptions, skipped: string[]): Promise<HomeWatch> {
  const callback = (err: Error | null, events: ChangeEvent[]) => {
    // An exception escaping this callback is fatal to the process in the native binding.
    try {
      if (err) opts.onFailure(err);
      else if (events.length) opts.onChanges(events);
    } catch {
      /* the handlers log their own problems */
    }
  };
  const ignore: Array<string | RegExp> = [...(opts.ignore ? [opts.ignore] : []), ...skipped.map((rel) => join(opts.dir, rel))];
  const sub = await parcel.subscribe(opts.dir, callback, { ignore });
  return {
    skipped,
    close: async () => {
      try {
        await sub.unsubscribe();
      } catch {
        /* already gone with the directory */
      }
    },
  };
}

/** Directories under `dir` this process cannot list (bounded walk, symlinks not followed). */
async function findUnreadable(dir: string, ignore: RegExp | undefined, limit = 200_000): Promise<string[]> {
  const out: string[] = [];
  const queue = [dir];
  let seen = 0;
  while (queue.length && seen < limit) {
    const current = queue.pop()!;
    try {
      for await (const entry of await opendir(current)) {
        if (++seen >= limit) break;
        if (!entry.isDirectory()) continue; // Dirent types come from lstat: symlinks stay symlinks
        const path = join(current, entry.name);
        if (ignore?.test(relative(dir, path))) continue;
        queue.push(path);
      }
    } catch (err) {
      if (classifyWatchError(err) === "unreadable" && current !== dir) out.push(relative(dir, current));
    }
  }
  return out;
}
