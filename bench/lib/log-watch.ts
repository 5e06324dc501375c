/** Follows a growing log file and reports each new complete line with its arrival time. */
import { openSync, readSync, closeSync, watch, existsSync, type FSWatcher } from "node:fs";
import { performance } from "node:perf_hooks";

export interface LineWatch {
  readonly count: number;
  stop(): void;
}

export function watchLines(path: string, onLine: (line: string, at: number) => void): LineWatch {
  let fd: number | undefined;
  let offset = 0;
  let partial = "";
  let count = 0;
  const buf = Buffer.alloc(1 << 20);
  const read = () => {
    if (fd === undefined) {
      if (!existsSync(path)) return;
      fd = openSync(path, "r");
    }
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n <= 0) break;
      offset += n;
      const at = performance.timeOrigin + performance.now();
      const parts = (partial + buf.toString("utf8", 0, n)).split("\n");
      partial = parts.pop()!;
      for (const l of parts) {
        count++;
        onLine(l, at);
      }
    }
  };
  const timer = setInterval(read, 2);
  let watcher: FSWatcher | undefined;
  const tryWatch = () => {
    if (!watcher && existsSync(path)) watcher = watch(path, read);
  };
  const watchTimer = setInterval(tryWatch, 50);
  return {
    get count() {
      return count;
    },
    stop() {
      clearInterval(timer);
      clearInterval(watchTimer);
      watcher?.close();
      if (fd !== undefined) closeSync(fd);
    },
  };
}

/** Wall-clock milliseconds with sub-millisecond precision (comparable across processes). */
export const nowMs = (): number => performance.timeOrigin + performance.now();
