/** Spool reader test seams: a recording in-memory sink, homes in a temp dir, a reader on them. */
import { chownSync, closeSync, fchownSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { BustleEvent } from "../../../cluster/envelope.js";
import { silentLogger } from "../../../cluster/logger.js";
import { tempDir, type TempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { memoryAudit } from "../../../relay/audit.js";
import type { EventSink } from "../../../relay/event-sink.js";
import { createSpoolReader, type SpoolReader, type SpoolReaderOptions } from "../../../relay/spool/spool-reader.js";

export const USER_UID = 1001;

/** Keeps every submitted batch; `failNext` makes the next submits reject (a full disk). */
export interface RecordingSink extends EventSink {
  events: BustleEvent[];
  batches: number;
  failNext: number;
  /** Calls that overlapped another call (must stay 0). */
  overlaps: number;
}

export function recordingSink(delayMs = 0): RecordingSink {
  let busy = false;
  const sink: RecordingSink = {
    events: [],
    batches: 0,
    failNext: 0,
    overlaps: 0,
    async submit(events) {
      if (busy) sink.overlaps++;
      busy = true;
      try {
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        if (sink.failNext > 0) {
          sink.failNext--;
          throw new Error("disk full");
        }
        sink.batches++;
        sink.events.push(...events);
      } finally {
        busy = false;
      }
    },
  };
  return sink;
}

export interface Fixture {
  dir: TempDir;
  homes: string;
  state: string;
  home(user: string, uid?: number): string;
  spool(user: string): string;
  append(user: string, text: string | Buffer): void;
  /** Stops the readers made on it (a reader saving its offsets meanwhile would race the removal), then removes it. */
  remove(): Promise<void>;
  /** Readers made on this fixture (createReader). */
  readers: SpoolReader[];
}

function inside(base: string): TempDir {
  const path = mkdtempSync(join(base, "bustle-spool-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** `base`: where its temporary folder goes (default: the system's temporary directory). */
export function fixture(base?: string): Fixture {
  const dir: TempDir = base ? inside(base) : tempDir("bustle-spool-");
  const homes = join(dir.path, "home");
  const state = join(dir.path, "state");
  mkdirSync(homes);
  return {
    dir,
    homes,
    state,
    home(user, uid = USER_UID) {
      const h = join(homes, user);
      mkdirSync(h, { recursive: true });
      chownSync(h, uid, uid);
      return h;
    },
    spool: (user) => join(homes, user, ".bustle.spool"),
    append(user, text) {
      // Owned by the user before any byte is in it, as when the user writes it.
      const fd = openSync(join(homes, user, ".bustle.spool"), "a", 0o644);
      try {
        fchownSync(fd, USER_UID, USER_UID);
        writeSync(fd, typeof text === "string" ? Buffer.from(text) : text);
      } finally {
        closeSync(fd);
      }
    },
    readers: [],
    async remove() {
      await Promise.all(this.readers.map((r) => r.stop()));
      dir.remove();
    },
  };
}

export interface Running {
  reader: SpoolReader;
  sink: RecordingSink;
  audit: ReturnType<typeof memoryAudit>;
}

/** The event id key of every test reader (a real node makes its own: relay/id-key.ts). */
export const TEST_ID_KEY = Buffer.alloc(32, 7);

export async function startReader(
  f: Fixture,
  opts: Partial<SpoolReaderOptions> & { sink?: RecordingSink } = {},
): Promise<Running> {
  const running = createReader(f, opts);
  await running.reader.start();
  return running;
}

/** A reader on the fixture's homes, not started yet. */
export function createReader(f: Fixture, opts: Partial<SpoolReaderOptions> & { sink?: RecordingSink } = {}): Running {
  const sink = opts.sink ?? recordingSink();
  const audit = memoryAudit();
  const reader = createSpoolReader({
    node: "town",
    idKey: TEST_ID_KEY,
    homesRoot: f.homes,
    stateDir: f.state,
    log: silentLogger,
    rate: { burst: 1_000_000, perMinute: 10_000_000 },
    maxLineBytes: 8192,
    rescanMs: 200,
    ...opts,
    sink,
    audit,
  });
  f.readers.push(reader);
  return { reader, sink, audit };
}

export const texts = (sink: RecordingSink): string[] => sink.events.map((e) => e.text);

/** Waits until the sink holds `n` events. */
export function waitEvents(sink: RecordingSink, n: number, what = `${n} events`): Promise<unknown> {
  return waitFor(() => sink.events.length >= n, 20_000, what, 20);
}

/** Waits until the audit holds a record matching `pred`. */
export function waitAudit(r: Running, pred: (rec: Record<string, unknown>) => boolean, what: string): Promise<unknown> {
  return waitFor(() => r.audit.records.some(pred), 20_000, what, 20);
}
