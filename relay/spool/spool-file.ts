/**
 * A spool the reader holds open, and how its reads are done: its `fstat`s and `pread`s run on
 * the main thread when a block device's file system answers them, and through the thread pool
 * otherwise. On the machines measured (VMs), handing a call to the thread pool costs more than
 * the call: waking a pool thread and being woken back costs ~0.1 ms of CPU each time, where an
 * `fstat` or a `pread` of a page that was just written costs a few µs (docs/BENCHMARKS.md,
 * "One-node CPU and p99 (issue 14, node, …)").
 *
 * Why the main thread is safe there: the descriptor's file system is fixed when it is opened
 * (its device number, from `fstat` of the descriptor itself, cannot change later), and a file
 * system with a real block device (a non-zero major number: ext4, xfs on a disk) is answered by
 * the kernel, not by a user-space daemon or a network. Anything else — FUSE (which a user may
 * mount on their own home), NFS, CIFS, 9p, tmpfs, overlay, btrfs subvolumes: all with anonymous
 * (major 0) devices — keeps the thread pool, so a file system that hangs cannot stop the relay.
 */
import { fstatSync, readSync, type Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";

/** The major number of a Linux device number (glibc's `gnu_dev_major`, on a JS number). */
export function deviceMajor(dev: number): number {
  return ((Math.floor(dev / 256) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff)) >>> 0;
}

/** Whether reads of a file on device `dev` may run on the main thread (see above). */
export const readsInline = (dev: number): boolean => deviceMajor(dev) !== 0;

export class SpoolFile {
  /**
   * `dev`: the device of the open descriptor (its fstat), which decides where reads run;
   * `inline` overrides that decision (tests).
   */
  constructor(
    readonly fh: FileHandle,
    dev: number,
    readonly inline = readsInline(dev),
  ) {}

  /** The descriptor's fstat. */
  stat(): Stats | Promise<Stats> {
    return this.inline ? fstatSync(this.fh.fd) : this.fh.stat();
  }

  /** Reads into `buf` from `position`; resolves to the bytes read (fewer at the end of the file). */
  read(buf: Buffer, position: number): number | Promise<number> {
    if (!buf.length) return 0;
    if (this.inline) return readSync(this.fh.fd, buf, 0, buf.length, position);
    return this.fh.read(buf, 0, buf.length, position).then((r) => r.bytesRead);
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
