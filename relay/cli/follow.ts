/**
 * Following bustle.log like `tail -F`: fs.watch on the log's folder for promptness, a poll as
 * the fallback (inotify limits, network file systems), and reopening when the log is truncated,
 * replaced (rotation) or appears for the first time. Only complete lines are handed on.
 */
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  statSync,
  watch,
  type FSWatcher,
  type Stats,
} from "node:fs";
import { basename, dirname } from "node:path";
import { RecentLines } from "./recent-lines.js";
import { MAX_LINE_BYTES } from "./tail.js";

export type FollowNotice = "missing" | "removed" | "appeared" | "truncated" | "replaced" | "unreadable";

export interface FollowHandlers {
  /** One complete line (raw bytes, no newline) that starts at `offset` in the file. */
  line(line: Buffer, offset: number): void;
  /** Something happened to the file itself; `detail` is a one-line reason for "unreadable". */
  notice(kind: FollowNotice, detail?: string): void;
}

export interface FollowStart {
  /** An already open descriptor of the log (the one the tail was read from); the follower owns it. */
  fd?: number | undefined;
  /** Where to continue in it (just after the last complete line). */
  offset?: number;
}

export interface FollowOptions {
  pollMs?: number;
  /** Bytes read per step before yielding, so a burst never holds the terminal for long. */
  stepBytes?: number;
}

/** Follows `path` until `stop()`. The caller stops it; stop closes the file and the watcher. */
export class LogFollower {
  private fd: number | undefined;
  private offset: number;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private readonly recent = new RecentLines();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = false;
  private lastNotice: FollowNotice | undefined;
  private readonly buf: Buffer;
  private readonly pollMs: number;

  constructor(
    private readonly path: string,
    private readonly on: FollowHandlers,
    start: FollowStart = {},
    opts: FollowOptions = {},
  ) {
    this.fd = start.fd;
    this.offset = start.offset ?? 0;
    this.pollMs = opts.pollMs ?? 500;
    this.buf = Buffer.allocUnsafe(opts.stepBytes ?? 256 * 1024);
    // Remembered now, while the file is still what the tail was read from: by start() the
    // relay (or a test) may already have cut it back, and what was shown must still be known.
    if (this.fd !== undefined && this.offset > 0) this.recent.seed(this.fd, this.offset);
  }

  start(): void {
    this.watchDir();
    this.timer = setInterval(() => {
      if (!this.watcher) this.watchDir();
      this.check();
    }, this.pollMs);
    this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Runs a step now, or once more after the running one (events arrive in bursts). */
  check(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      const more = this.step();
      if (more) this.again = true;
    } finally {
      this.running = false;
    }
    if (this.again && !this.stopped) {
      this.again = false;
      setImmediate(() => this.check());
    }
  }

  private watchDir(): void {
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) this.check();
      });
      this.watcher.on("error", () => {
        this.watcher?.close();
        this.watcher = undefined; // the poll keeps going and retries the watch
      });
    } catch {
      this.watcher = undefined; // folder missing or inotify exhausted: polling only
    }
  }

  private tell(kind: FollowNotice, detail?: string): void {
    if (kind === this.lastNotice && (kind === "missing" || kind === "unreadable")) return;
    if (kind === "missing" && this.lastNotice === "removed") return; // already said
    this.lastNotice = kind;
    this.on.notice(kind, detail);
  }

  /** One step; true when there is more to read right away. */
  private step(): boolean {
    let st: Stats | undefined;
    try {
      st = statSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        this.tell("unreadable", (err as NodeJS.ErrnoException).code ?? String(err));
        return false;
      }
    }
    if (this.fd !== undefined) {
      const cur = fstatSync(this.fd);
      if (!st || st.ino !== cur.ino || st.dev !== cur.dev) {
        // Rotated or removed: finish what the old file still holds, then let it go.
        while (this.drain()) {}
        closeSync(this.fd);
        this.fd = undefined;
        this.partial = [];
        this.partialBytes = 0;
        this.tell(st ? "replaced" : "removed");
      } else if (cur.size < this.offset) {
        this.offset = this.recent.resumePoint(this.fd, cur.size);
        this.partial = [];
        this.partialBytes = 0;
        this.tell("truncated");
      }
    }
    if (this.fd === undefined) {
      if (!st) {
        this.tell("missing");
        return false;
      }
      if (!this.open()) return false;
    }
    return this.drain();
  }

  private open(): boolean {
    let fd: number;
    try {
      // O_NONBLOCK: a FIFO put in the log's place must not hang the feed.
      fd = openSync(this.path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") this.tell("unreadable", code ?? String(err));
      return false;
    }
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      this.tell("unreadable", "not a regular file");
      return false;
    }
    const was = this.lastNotice;
    this.fd = fd;
    this.offset = 0;
    this.partial = [];
    this.partialBytes = 0;
    this.recent.clear();
    this.lastNotice = undefined;
    if (was === "missing" || was === "removed" || was === "unreadable") this.on.notice("appeared");
    return true;
  }

  /** Reads up to one buffer from the offset, hands on complete lines; true when more is waiting. */
  private drain(): boolean {
    if (this.fd === undefined) return false;
    const base = this.offset;
    const got = readSync(this.fd, this.buf, 0, this.buf.length, base);
    if (got === 0) return false;
    this.offset += got;
    const chunk = this.buf.subarray(0, got);
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      const tooLong = this.partialBytes + piece.length > MAX_LINE_BYTES;
      const line = tooLong
        ? undefined
        : this.partial.length
          ? Buffer.concat([...this.partial, piece])
          : Buffer.from(piece);
      this.partial = [];
      this.partialBytes = 0;
      start = nl + 1;
      if (!line) continue; // never in a real bustle.log; skipped to bound memory
      const at = base + nl - line.length;
      const repeat = this.recent.isRepeat(at, line);
      this.recent.add(at, line);
      if (!repeat) this.on.line(line, at);
      if (this.stopped) return false;
    }
    if (start < got) {
      // Past the limit only the count is kept, not the bytes.
      if (this.partialBytes + got - start <= MAX_LINE_BYTES) this.partial.push(Buffer.from(chunk.subarray(start)));
      else this.partial = [];
      this.partialBytes += got - start;
    }
    return got === this.buf.length;
  }
}
