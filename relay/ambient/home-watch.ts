/**
 * One home directory under @parcel/watcher: one inotify watch per directory (never per file),
 * symlinks not followed (no loops), the rules' unwatchable dot-paths skipped. The library's
 * crawl quietly skips directories it may not read; a home it may not read at all is refused
 * here with a clear error instead of the library's "Bad file descriptor".
 */
import { access, constants } from "node:fs/promises";
import parcel from "@parcel/watcher";

export type ChangeEvent = { path: string; type: "create" | "update" | "delete" };

export interface HomeWatch {
  /** Stops watching; never rejects (a vanished home's watches are already gone). */
  close(): Promise<void>;
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
 * Starts watching a home. Resolves once every readable directory in it is watched; rejects
 * when that is impossible (sort the error with classifyWatchError: the inotify limit, an
 * unreadable or vanished home). The caller closes the returned watch.
 */
export async function watchHome(opts: HomeWatchOptions): Promise<HomeWatch> {
  await access(opts.dir, constants.R_OK | constants.X_OK);
  const callback = (err: Error | null, events: ChangeEvent[]) => {
    // An exception escaping this callback is fatal to the process in the native binding.
    try {
      if (err) opts.onFailure(err);
      else if (events.length) opts.onChanges(events);
    } catch {
      /* the handlers log their own problems */
    }
  };
  const sub = await parcel.subscribe(opts.dir, callback, opts.ignore ? { ignore: [opts.ignore] } : {});
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
