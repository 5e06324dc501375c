/**
 * One home directory under @parcel/watcher: one inotify watch per directory (never per file),
 * symlinks not followed (no loops), dot-directories no rule names skipped at the top two
 * levels. The library's crawl quietly skips directories it may not read; a home it may not
 * read at all is refused here with a clear error instead of the library's "Bad file descriptor".
 */
import { accessSync, constants, readdirSync } from "node:fs";
import { join } from "node:path";
import parcel from "@parcel/watcher";

export type ChangeEvent = { path: string; type: "create" | "update" | "delete" };

export interface HomeWatch {
  /** Stops watching; never rejects (a vanished home's watches are already gone). */
  close(): Promise<void>;
}

export interface HomeWatchOptions {
  /** The home's real path (symlinks resolved). */
  dir: string;
  /** Top-level entries to leave unwatched (dot-directories no rule names). */
  skipTopLevel(name: string): boolean;
  /** Entries one level down to leave unwatched (`public_html/.git`). */
  skipSecondLevel(name: string): boolean;
  onChanges(events: ChangeEvent[]): void;
  /** The library gave up on this home after it was watched (its watches are gone). */
  onFailure(err: Error): void;
}

/**
 * Starts watching a home. Resolves once every readable directory in it is watched; rejects
 * when that is impossible (sort the error with classifyWatchError: the inotify limit, an
 * unreadable or vanished home). The caller closes the returned watch.
 */
export async function watchHome(opts: HomeWatchOptions): Promise<HomeWatch> {
  accessSync(opts.dir, constants.R_OK | constants.X_OK);
  // Plain paths, not globs: the library tests globs with a std::regex on every path it crawls,
  // which tripled the start-up time on 5,000 homes. A dot-directory made later is watched
  // until the home is watched anew; the rules drop its changes either way.
  const ignore = unwatchedDirs(opts);
  const callback = (err: Error | null, events: ChangeEvent[]) => {
    // An exception escaping this callback is fatal to the process in the native binding.
    try {
      if (err) opts.onFailure(err);
      else if (events.length) opts.onChanges(events);
    } catch {
      /* the handlers log their own problems */
    }
  };
  const sub = await parcel.subscribe(opts.dir, callback, ignore.length ? { ignore } : {});
  return {
    close: async () => {
      try {
        await sub.unsubscribe();
      } catch {
        /* already gone with the directory */
      }
    },
  };
}

/** Characters that would make the library read an ignore path as a glob (then a regex): leave such names watched. */
const GLOBBY = /[*?[\]{}()!+@]/;

/** Dot-directories no rule can match, at the top of the home and one level down, as absolute paths. */
function unwatchedDirs(opts: HomeWatchOptions): string[] {
  const out: string[] = [];
  for (const top of readdirSync(opts.dir, { withFileTypes: true })) {
    if (!top.isDirectory() || GLOBBY.test(top.name)) continue; // Dirents are lstat-based: no symlinks
    const path = join(opts.dir, top.name);
    if (opts.skipTopLevel(top.name)) {
      out.push(path);
      continue;
    }
    try {
      for (const sub of readdirSync(path, { withFileTypes: true })) {
        if (sub.isDirectory() && opts.skipSecondLevel(sub.name) && !GLOBBY.test(sub.name)) out.push(join(path, sub.name));
      }
    } catch {
      /* unreadable: the library skips it too */
    }
  }
  return out;
}
