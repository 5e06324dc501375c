/**
 * Writing files so that a power cut leaves either the old or the new content, and appends whose
 * byte count is checked. Every file replaced by rename is fsynced first, and so is its
 * directory afterwards (else the rename itself may not survive the power cut).
 */
import { constants, writeSync } from "node:fs";
import { link, open, rename, unlink, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { ShortWrite } from "./disk-fault.js";

/** fsyncs a directory, so that renames and creations in it are durable. */
export async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/**
 * Replaces `path` with `data`: a temporary file beside it, written whole, fsynced, renamed over
 * `path`, then the directory fsynced. On failure the temporary file is removed (it holds space
 * a full disk needs) and the old `path` is untouched. `keepPrevious`: the old content stays
 * readable as `<path>.prev` (a hard link, made before the rename), a fallback for readers that
 * find `path` damaged.
 */
export async function replaceFile(
  path: string,
  data: string | Uint8Array,
  mode: number,
  keepPrevious = false,
): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, mode);
    try {
      await fh.writeFile(data); // loops until every byte is written, or throws
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (keepPrevious) await linkPrevious(path);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await syncDir(dirname(path));
}

/** `<path>.prev` := the current `path` (when there is one), replaced atomically. */
async function linkPrevious(path: string): Promise<void> {
  const prevTmp = `${path}.prev.tmp`;
  await unlink(prevTmp).catch(() => {});
  try {
    await link(path, prevTmp);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  await rename(prevTmp, `${path}.prev`);
}

/**
 * One append of `text` to `fh`; a short write is an error (the caller cuts the tail back).
 * Written synchronously: for the relay's own appends on the hot path (journal, log, index),
 * where a write into the page cache costs far less than a thread-pool round trip.
 * Never for files in users' homes (a hung file system there must not stop the relay).
 */
export function appendAllSync(fh: FileHandle | number, text: string | Buffer, path: string): number {
  const buf = typeof text === "string" ? Buffer.from(text) : text;
  const bytesWritten = writeSync(typeof fh === "number" ? fh : fh.fd, buf, 0, buf.length);
  if (bytesWritten !== buf.length) throw new ShortWrite(path, bytesWritten, buf.length);
  return bytesWritten;
}

/**
 * `buf` written over the bytes at `position` of `fd` (opened without O_APPEND); a short write is
 * an error like an append's (the caller writes the same bytes again: an overwrite is idempotent).
 */
export function overwriteAllSync(fd: number, buf: Buffer, position: number, path: string): void {
  const bytesWritten = writeSync(fd, buf, 0, buf.length, position);
  if (bytesWritten !== buf.length) throw new ShortWrite(path, bytesWritten, buf.length);
}
