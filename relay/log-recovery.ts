/**
 * Finding where bustle.log left off when its position file is lost or damaged: the log's last
 * event line is looked up in the stream, newest first, and the writer continues after it. So a
 * damaged position costs neither a doubled log nor a gap.
 */
import type { FileHandle } from "node:fs/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodeEventOn, logLine } from "../cluster/envelope.js";
import { STREAM_NAME } from "../cluster/names.js";

const TAIL_BYTES = 64 * 1024;
/** Give up after looking at this many messages from the stream's end. */
const MAX_SCAN = 200_000;

export interface LogTail {
  /** Bytes up to and including the last newline (a torn line after it is to be cut). */
  wholeSize: number;
  /** The last complete lines, oldest first (at most what fits in 64 KiB). */
  lines: string[];
}

/** Reads the end of the log: its complete size and its last lines. */
export async function readLogTail(fh: FileHandle, size: number): Promise<LogTail> {
  const len = Math.min(size, TAIL_BYTES);
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, size - len);
  const text = buf.subarray(0, bytesRead);
  const lastNl = text.lastIndexOf(0x0a);
  if (lastNl < 0) return { wholeSize: size > len ? size - len : 0, lines: [] };
  const wholeSize = size - len + lastNl + 1;
  const lines = text.subarray(0, lastNl).toString("utf8").split("\n");
  if (size > len) lines.shift(); // the first one may start before the window
  return { wholeSize, lines };
}

/**
 * The stream sequence of the newest event whose log line is one of `lines`, looking back from the
 * stream's end: since the log is in stream order, that is the last event the log holds.
 * Undefined when none is found (within the last 200,000 messages).
 */
export async function findLoggedSeq(nc: NatsConnection, lines: string[]): Promise<number | undefined> {
  if (!lines.length) return undefined;
  const wanted = new Set(lines.map((l) => l + "\n"));
  const jsm = await jetstreamManager(nc, { timeout: 5_000 });
  const info = await jsm.streams.info(STREAM_NAME);
  const floor = Math.max(1, info.state.first_seq, info.state.last_seq - MAX_SCAN);
  for (let seq = info.state.last_seq; seq >= floor; seq--) {
    let line: string;
    try {
      const m = await jsm.streams.getMessage(STREAM_NAME, { seq });
      if (!m) continue;
      line = logLine(decodeEventOn(m.subject, m.data));
    } catch {
      continue; // deleted, or not an envelope (the writer skipped it too)
    }
    if (wanted.has(line)) return seq;
  }
  return undefined;
}
