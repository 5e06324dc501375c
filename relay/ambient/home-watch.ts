/**
 * A directory tree under @parcel/watcher (one home, or the whole homes root): one inotify watch
 * per directory (never per file), symlinks not followed (no loops), and the paths a pattern names
 * left unwatched. The library's crawl quietly skips directories it may not read; a tree it may
 * not read at all is refused here with a clear error instead of the library's "Bad file descriptor".
 */
import parcel from "@parcel/watcher";
import { assertReadable } from "./homes.js";

export type ChangeEvent = { path: string; type: "create" | "update" | "delete" };

export interface TreeWatch {
  /** Stops watching; never rejects (a vanished tree's watches are already gone). */
  close(): Promise<void>;
}

export interface TreeWatchOptions {
  /** The tree's real path (symlinks resolved). */
  dir: string;
  /**
   * Paths relative to `dir` to leave unwatched, as a regular expression source matched against
   * the whole relative path. Neither crawled nor reported: a directory it names costs no watch.
   */
  unwatched?: string | undefined;
  onChanges(events: ChangeEvent[]): void;
  /** The library gave up on this tree after it was watched (its watches are gone). */
  onFailure(err: Error): void;
}

/**
 * The library's options for an `unwatched` expression: handed to its native matcher as it is
 * (`ignoreGlobs`, what the library's own `ignore` option is turned into), one regular expression
 * rather than globs or a list of paths. The library tests every path it crawls, files included,
 * against every ignore: each ignore path is a prefix compare built afresh (~580 instructions a
 * path, per entry), each glob a std::regex_match of the whole path (no anchors needed). Not
 * through `ignore`: 2.6 wraps a RegExp given there as `^[\s\S]*(?:…)[\s\S]*$` (JavaScript's
 * `test()` semantics), a scan to the end of the path and back before the expression starts:
 * 2.6× the instructions per path (docs/BENCHMARKS.md, issue 14, ambient).
 */
export function ignoreOption(unwatched: string | undefined): parcel.Options {
  if (unwatched === undefined) return {};
  const native: NativeIgnore = { ignoreGlobs: [unwatched] };
  return native as parcel.Options;
}

/**
 * The binding's own option, which `ignore` becomes in the library's wrapper.js; passed as it is,
 * since the wrapper only rewrites `ignore`. The watch-count test in limits.test.ts fails if a
 * version of the library stops honouring it.
 */
interface NativeIgnore {
  ignoreGlobs: string[];
}

/**
 * Starts watching a tree. Resolves once every readable directory in it is watched; rejects
 * when that is impossible (sort the error with classifyWatchError: the inotify limit, an
 * unreadable or vanished tree). The caller closes the returned watch.
 */
export async function watchTree(opts: TreeWatchOptions): Promise<TreeWatch> {
  assertReadable(opts.dir);
  const callback = (err: Error | null, events: ChangeEvent[]) => {
    // An exception escaping this callback is fatal to the process in the native binding.
    try {
      if (err) opts.onFailure(err);
      else if (events.length) opts.onChanges(events);
    } catch {
      /* the handlers log their own problems */
    }
  };
  const sub = await parcel.subscribe(opts.dir, callback, ignoreOption(opts.unwatched));
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
