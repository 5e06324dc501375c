/**
 * The log writer: the whole BUSTLE stream, in stream order, appended once each to bustle.log.
 *
 * It owns its position (log-position.json), not the server: an ordered consumer starts at the
 * next sequence. Lines are appended in batches as they arrive; a sync loop fdatasyncs the log
 * before it advances the recorded position. After a crash, whatever the log holds beyond the recorded size (a torn line or
 * lines whose position was never recorded) is cut off and consumed again — no gap, no
 * duplicate, no torn line.
 *
 * Disk faults: a failed or short append is cut back to the last whole line and retried with
 * backoff while the consumer is stopped (what the stream holds waits there); the position is
 * recorded only after a successful sync. A position file that is empty or unreadable (a power
 * cut) is recovered from the log's last line, found in the stream (relay/log-recovery.ts).
 * Nothing here rejects unhandled: every failure is reported, retried or logged.
 */
import { constants } from "node:fs";
import { mkdir, open, stat, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodeEventOn, logLine } from "../cluster/envelope.js";
import { STREAM_NAME } from "../cluster/names.js";
import type { Logger } from "../cluster/logger.js";
import { SkippedMessages, type SkipReason } from "../cluster/skipped.js";
import type { Audit } from "./audit.js";
import { withdrawalOf, type Withdrawal } from "../cluster/withdraw.js";
import { applyWithdrawal } from "./log-withdraw.js";
import { indexPathOf, openLogIndexWriter, type IndexMeta, type LogIndexWriter } from "./log-index.js";
import { createDiskFaults, withDiskRetry, type DiskFaults } from "./disk-fault.js";
import { appendAllSync } from "./durable-file.js";
import { LOG_POSITION_FILE, readLogPosition, writeLogPosition, type LogPosition } from "./log-position.js";
import { findLoggedSeq, readLogTail } from "./log-recovery.js";

/** At most one fdatasync + position update per this interval. */
const SYNC_INTERVAL_MS = 200;

export interface LogWriterOptions {
  logPath: string;
  stateDir: string;
  /** This node's id (for gap marker lines). */
  node: string;
  audit: Audit;
  log: Logger;
  /** No progress for this long while the stream has more → recreate the consumer. Default 5 s. */
  stallMs?: number;
  /** Where disk faults are reported (the relay shares one; default: a private one). */
  faults?: DiskFaults;
}

export interface LogWriter {
  /**
   * Opens the log (before NATS is reachable: a log that cannot be opened fails the relay's
   * start with a clear error; a full disk is waited out). Called by `start` if not before.
   */
  open(): Promise<void>;
  /** Repairs the log after a crash (using the stream when the position was lost), records the position, starts consuming. */
  start(nc: NatsConnection): Promise<void>;
  /** Stops consuming and flushes; the position is durable afterwards. */
  stop(): Promise<void>;
  /** Continues in the file now at the log's path (after logrotate; bustled calls it on SIGHUP). */
  reopen(reason: string): Promise<void>;
  /** The last stream sequence written. */
  readonly position: number;
  /** Stream messages not written (a payload that contradicts its subject, or no envelope), by reason. */
  readonly skipped: Readonly<Record<SkipReason, number>>;
}

export function createLogWriter(opts: LogWriterOptions): LogWriter {
  const { log, audit } = opts;
  const faults = opts.faults ?? createDiskFaults(log);
  const posFile = join(opts.stateDir, LOG_POSITION_FILE);
  /** Set by `openLog` when the position must be found from the log's last line and the stream. */
  let recover: { why: string } | undefined;
  /** True after a failed append: bytes past `written.size` may be a partial line. */
  let torn = false;
  let fh: FileHandle | undefined;
  let pos: LogPosition = { seq: 0, size: 0, ino: 0 };
  let nc: NatsConnection | undefined;
  let messages: ConsumerMessages | undefined;
  let consumerGen = 0;
  let buffer: string[] = [];
  let metas: Array<IndexMeta | undefined> = []; // buffer[i]'s index record (none for marker lines)
  let index: LogIndexWriter | undefined;
  let withdrawals: Withdrawal[] = []; // in `buffer`: applied once their batch is written
  let bufferedSeq = 0; // highest sequence taken into `buffer`
  let flushing: Promise<void> | undefined;
  let running = false;
  let lastProgress = Date.now();
  let watchdog: NodeJS.Timeout | undefined;
  // Stream info can come from a lagging replica (2.9 lets followers answer while a group is
  // leaderless, e.g. just after a partition heals): "behind us" alone does not mean recreated.
  let streamCreated: string | undefined;
  let behindSeen = 0;
  // Never written, but consumed: the position moves past them like past any other message.
  const skipped = new SkippedMessages(log, (s) =>
    audit.rejected(s.reason, { origin: s.subject, actor: null }, { seq: s.seq, error: s.error }),
  );

  /** Opens bustle.log for appending and reconciles it with the recorded position. */
  async function openLog(): Promise<void> {
    await mkdir(dirname(opts.logPath), { recursive: true });
    await mkdir(opts.stateDir, { recursive: true });
    fh = await open(
      opts.logPath,
      constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
      0o644,
    );
    await fh.chmod(0o644); // world-readable whatever the umask
    const st = await fh.stat();
    const saved = readLogPosition(posFile);
    if (saved.kind === "damaged" || (saved.kind === "missing" && st.size > 0)) {
      // Not from zero (that would log the whole stream again): from the log's own last line.
      const why =
        saved.kind === "damaged"
          ? `the position file ${posFile} is damaged: ${saved.error}`
          : `bustle.log exists but this state dir has no position (${posFile})`;
      log.error(`${why}; finding the log's last line in the stream to continue after it`, { size: st.size });
      recover = { why };
      pos = { seq: 0, size: st.size, ino: st.ino };
    } else if (saved.kind === "missing") {
      pos = { seq: 0, size: st.size, ino: st.ino };
    } else if (saved.pos.ino !== st.ino) {
      // Rotated or replaced by the admin: keep our place in the stream, continue in the new file.
      pos = { seq: saved.pos.seq, size: st.size, ino: st.ino };
      log.info("bustle.log was replaced; continuing in the new file", { seq: saved.pos.seq });
    } else if (st.size > saved.pos.size) {
      await fh.truncate(saved.pos.size);
      log.info("cut unrecorded tail of bustle.log after a crash; it will be written again", {
        bytes: st.size - saved.pos.size,
        seq: saved.pos.seq,
      });
      pos = saved.pos;
    } else {
      pos = { ...saved.pos, size: st.size }; // equal, or truncated by the admin
    }
    index = await openLogIndexWriter(opts.logPath, pos.size, saved.kind === "ok" && saved.pos.ino !== st.ino);
    bufferedSeq = pos.seq;
    written = { ...pos };
  }

  /** The position from the log's last line: cut a torn line, find the last event in the stream. */
  async function recoverPosition(conn: NatsConnection): Promise<void> {
    const why = recover!.why;
    const st = await fh!.stat();
    const tail = await readLogTail(fh!, st.size);
    if (tail.wholeSize < st.size) {
      await fh!.truncate(tail.wholeSize);
      log.warn("cut a torn last line of bustle.log", { bytes: st.size - tail.wholeSize });
      await index?.close(); // and the index record of that line
      index = await openLogIndexWriter(opts.logPath, tail.wholeSize, false);
    }
    const seq = await findLoggedSeq(conn, tail.lines);
    if (seq !== undefined) {
      log.warn("recovered the log position from the log's last line", { seq });
      audit.note("log position recovered", { reason: why, seq });
    } else if (tail.lines.length) {
      log.error(
        "the log's last lines are not in the stream (expired?); continuing after the stream's end — events between may be missing here",
      );
      audit.note("log position lost", { reason: why });
    }
    let next = seq ?? 0;
    if (seq === undefined && tail.lines.length) {
      const jsm = await jetstreamManager(conn, { timeout: 5_000 });
      next = (await jsm.streams.info(STREAM_NAME)).state.last_seq;
      push(
        `${new Date().toISOString()} ${opts.node} -- this node lost its place in the stream; events before this line may be missing --\n`,
      );
    }
    pos = { seq: next, size: tail.wholeSize, ino: st.ino };
    bufferedSeq = next;
    written = { ...pos };
    recover = undefined;
  }

  function push(line: string, meta?: IndexMeta): void {
    buffer.push(line);
    metas.push(meta);
  }

  function take(m: JsMsg): void {
    const seq = m.seq;
    if (seq <= bufferedSeq) return; // already written (a redelivery)
    if (seq > bufferedSeq + 1 && bufferedSeq > 0) {
      const missing = seq - bufferedSeq - 1;
      push(
        `${new Date().toISOString()} ${opts.node} -- ${missing} event${missing === 1 ? " was" : "s were"} no longer in the stream when this node caught up --\n`,
      );
      audit.note("log gap", { after_seq: bufferedSeq, next_seq: seq, missing });
      log.warn("stream gap: events expired before this node logged them", { missing });
    }
    try {
      const ev = decodeEventOn(m.subject, m.data);
      push(logLine(ev), ev); // an envelope is its own index record's meta: no copy per line
      const w = withdrawalOf(ev);
      if (w) withdrawals.push(w);
    } catch (err) {
      skipped.skip(m, err);
    }
    bufferedSeq = seq;
    lastProgress = Date.now();
    scheduleFlush();
  }

  // Lines are written as soon as they arrive (readers see them at once); a separate loop
  // makes them durable and only then advances the recorded position.
  let written: LogPosition = { ...pos };
  let syncing: Promise<void> | undefined;
  let reopening: Promise<void> | undefined;

  /** After logrotate (or a deleted log): finish what is in hand, then continue in the file now at the path. */
  function reopen(reason: string): Promise<void> {
    reopening ??= (async () => {
      while (flushing) await flushing;
      while (syncing) await syncing;
      await sync();
      await fh?.close();
      await index?.close();
      fh = undefined;
      index = undefined;
      log.info("reopening bustle.log", { reason });
      await openLog();
    })().finally(() => (reopening = undefined));
    return reopening;
  }

  /** True when the path no longer names the file we write to. */
  async function replaced(): Promise<boolean> {
    try {
      return (await stat(opts.logPath)).ino !== pos.ino;
    } catch {
      return true;
    }
  }

  function scheduleFlush(): void {
    flushing ??= new Promise<void>((r) => setImmediate(r))
      .then(flush)
      .catch((err) => log.error("log flush failed", { error: err }))
      .finally(() => {
        flushing = undefined;
        if (buffer.length || written.seq < bufferedSeq) scheduleFlush();
      });
  }

  async function flush(): Promise<void> {
    while (reopening) await reopening;
    if (!fh || written.seq >= bufferedSeq) return;
    const lines = buffer;
    const lineMetas = metas;
    const joined = lines.join("");
    const text = Buffer.from(joined);
    // As many bytes as characters: all ASCII (any other character takes two bytes or more).
    const oneByte = text.length === joined.length;
    const upTo = bufferedSeq;
    const taken = withdrawals;
    buffer = [];
    metas = [];
    withdrawals = [];
    const indexMark = index?.size ?? 0;
    try {
      if (text.length) {
        // The records before the lines: a reader that sees a line finds its record.
        await withDiskRetry(faults, indexPathOf(opts.logPath), () =>
          holdOnFault(() => index?.append(written.size, lines, lineMetas, oneByte)),
        );
        await withDiskRetry(faults, opts.logPath, () =>
          holdOnFault(async () => {
            if (torn) {
              await fh!.truncate(written.size); // back to the last whole line; frees the space it took
              torn = false;
            }
            torn = true;
            try {
              appendAllSync(fh!, text, opts.logPath);
            } catch (err) {
              // Cut the partial line at once: readers must never see it.
              await fh!.truncate(written.size).then(
                () => (torn = false),
                () => {},
              );
              throw err;
            }
            torn = false;
          }),
        );
      }
      // Before the position moves past them: a withdrawal whose position is recorded was applied.
      for (const w of taken)
        await withDiskRetry(faults, opts.logPath, () =>
          holdOnFault(() => applyWithdrawal(opts.logPath, w, audit, log)),
        );
    } catch (err) {
      // Not a disk fault (or stopping): neither the lines nor their records stay; the stream
      // still has them.
      log.error("cannot write bustle.log; reading the unwritten events from the stream again", { error: err });
      await fh?.truncate(written.size).catch(() => (torn = true));
      try {
        index?.cutTo(indexMark);
      } catch {
        // its records past the log's end are cut when it is opened again
      }
      buffer = [];
      metas = [];
      withdrawals = []; // taken again with their events
      bufferedSeq = written.seq;
      stopConsumer();
      return;
    }
    written = { seq: upTo, size: written.size + text.length, ino: written.ino };
    if (paused) resumeConsumer();
    syncing ??= sync()
      .catch((err) => log.error("cannot sync bustle.log", { error: err }))
      .finally(() => (syncing = undefined));
  }

  /**
   * Runs one write of a batch. While the disk refuses it, take nothing more from the stream
   * (it keeps the events): the consumer stays away until a write succeeds.
   */
  async function holdOnFault(write: () => unknown): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (messages) pauseConsumer();
      throw err;
    }
  }

  /** fdatasyncs the log, then records the position (both retried through disk faults). */
  async function sync(): Promise<void> {
    while (fh && pos.seq < written.seq) {
      const target = written;
      const handle = fh;
      await withDiskRetry(faults, opts.logPath, () => handle.datasync());
      await withDiskRetry(faults, posFile, () => writeLogPosition(posFile, target));
      pos = target;
      // Let lines gather before the next sync: readers already see them, and a position that
      // lags only means those lines are cut and written again after a crash.
      if (running) await new Promise((r) => setTimeout(r, SYNC_INTERVAL_MS));
    }
  }

  /**
   * Stops the consumer; the watchdog starts a new one from `bufferedSeq + 1` (unless paused).
   * Messages the old one still hands over are ignored (they belong to an abandoned read).
   */
  function stopConsumer(): void {
    consumerGen++;
    messages?.stop();
    messages = undefined;
  }
  /** While the disk is full: no consumer at all, until a write succeeds. */
  let paused = false;
  function pauseConsumer(): void {
    paused = true;
    stopConsumer();
  }
  function resumeConsumer(): void {
    paused = false;
  }

  async function consume(): Promise<void> {
    if (!nc || !running) return;
    const js = jetstream(nc);
    const start = bufferedSeq + 1;
    streamCreated ??= await jetstreamManager(nc, { timeout: 2_000 })
      .then((m) => m.streams.info(STREAM_NAME))
      .then(
        (i) => i.created,
        () => undefined,
      );
    const consumer = await js.consumers.get(
      STREAM_NAME,
      start > 1
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start }
        : { deliver_policy: DeliverPolicy.All },
    );
    const gen = ++consumerGen;
    const started = await consumer.consume({
      max_messages: 1024,
      expires: 2_000,
      callback: (m) => void (gen === consumerGen && take(m)),
    });
    if (gen !== consumerGen || paused) return void started.stop(); // paused (a disk fault) meanwhile
    messages = started;
    lastProgress = Date.now();
    log.debug("consuming stream", { from_seq: start });
  }

  /** Recreates the consumer when the stream has more than we wrote and nothing arrives. */
  async function checkStall(): Promise<void> {
    if (!nc || !running || nc.isClosed()) return;
    if (Date.now() - lastProgress < (opts.stallMs ?? 5_000)) return;
    try {
      const jsm = await jetstreamManager(nc, { timeout: 2_000 });
      const info = await jsm.streams.info(STREAM_NAME);
      lastProgress = Date.now();
      const behind = info.state.last_seq < pos.seq && info.state.last_seq < bufferedSeq;
      const sameStream = streamCreated !== undefined && info.created === streamCreated;
      behindSeen = behind ? behindSeen + 1 : 0;
      if (!behind) streamCreated = info.created;
      if (behind && (sameStream || (streamCreated === undefined && behindSeen < 2))) {
        log.warn(
          "stream info behind this log's position (a lagging replica answered?); not treating it as recreated yet",
          { written: bufferedSeq, stream_last: info.state.last_seq },
        );
      } else if (behind) {
        streamCreated = info.created;
        behindSeen = 0;
        // The stream was deleted and created anew: its sequences start over.
        log.error("the stream is behind this log's position: it was recreated; logging it from its start", {
          written: bufferedSeq,
          stream_last: info.state.last_seq,
        });
        audit.note("stream recreated", { written_seq: bufferedSeq, stream_last_seq: info.state.last_seq });
        messages?.stop();
        while (flushing) await flushing;
        push(
          `${new Date().toISOString()} ${opts.node} -- the stream was recreated; what follows is its new history --\n`,
        );
        bufferedSeq = 0;
        written = { ...written, seq: 0 };
        pos = { ...pos, seq: 0 };
        scheduleFlush();
        await consume();
      } else if (info.state.last_seq > bufferedSeq) {
        log.warn("log writer stalled behind the stream; recreating its consumer", {
          written: bufferedSeq,
          stream_last: info.state.last_seq,
        });
        messages?.stop();
        await consume();
      }
    } catch (err) {
      log.debug("stall check failed", { error: err });
    }
  }

  return {
    get position() {
      return pos.seq;
    },
    skipped: skipped.counts,
    async open() {
      if (fh) return;
      await withDiskRetry(faults, opts.logPath, openLog);
    },
    async start(conn) {
      nc = conn;
      running = true;
      if (!fh) await withDiskRetry(faults, opts.logPath, openLog);
      // Needs the stream; retried until it answers (the relay is useless without it anyway).
      while (recover && running) {
        try {
          await recoverPosition(conn);
        } catch (err) {
          log.warn("cannot look up the log's last line in the stream yet; retrying", { error: err });
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
      await withDiskRetry(faults, posFile, () => writeLogPosition(posFile, pos));
      let starting = false;
      const tryConsume = async () => {
        if (starting) return;
        starting = true;
        try {
          await consume();
        } catch (err) {
          log.warn("cannot start consuming the stream yet; will retry", { error: err });
        } finally {
          starting = false;
        }
      };
      await tryConsume();
      watchdog = setInterval(() => {
        if (!messages && !paused) void tryConsume();
        else void checkStall();
        if (!reopening)
          void replaced()
            .then((r) => (r ? reopen("the log file was moved or replaced") : undefined))
            .catch((err) => log.error("cannot reopen bustle.log", { error: err }));
      }, 1_000);
    },
    reopen,
    async stop() {
      running = false;
      clearInterval(watchdog);
      while (reopening) await reopening;
      messages?.stop();
      while (flushing) await flushing;
      await flush();
      while (syncing) await syncing;
      await sync().catch((err) =>
        log.error("cannot sync bustle.log while stopping; the unrecorded tail is written again on the next start", {
          error: err,
        }),
      );
      await fh?.close();
      await index?.close();
      fh = undefined;
      index = undefined;
    },
  };
}
