/**
 * A real, small filesystem for disk-full tests: a size-limited tmpfs mounted by the test (we are
 * root) and always unmounted afterwards. `fill()` writes a ballast file until the kernel says
 * ENOSPC; `free()` removes it. Where mounting is refused, `mountSmallFs` says why (skip).
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SmallFs {
  path: string;
  /** Fills every free byte with a ballast file (so the next allocation fails with ENOSPC). */
  fill(): void;
  /** Removes the ballast. */
  free(): void;
  /** Unmounts and removes the mount point (idempotent). */
  remove(): void;
}

export function mountSmallFs(bytes: number): SmallFs | { skip: string } {
  const path = mkdtempSync(join(tmpdir(), "bustle-smallfs-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${bytes},mode=0755`, "tmpfs", path], { encoding: "utf8" });
  if (r.status !== 0) {
    rmdirSync(path);
    return {
      skip: `cannot mount a small tmpfs here (${(r.stderr || r.error?.message || "mount refused").trim()}); run as root where mounts are allowed`,
    };
  }
  const ballast = join(path, "ballast");
  let mounted = true;
  return {
    path,
    fill() {
      const fd = openSync(ballast, "a");
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      try {
        // Big chunks first, then single bytes: the last partial page is taken too.
        for (const size of [chunk.length, 4096, 1]) {
          for (;;) {
            try {
              if (writeSync(fd, chunk, 0, size) < size) break;
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === "ENOSPC") break;
              throw err;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      try {
        unlinkSync(ballast);
      } catch {
        /* not filled */
      }
    },
    remove() {
      if (!mounted) return;
      mounted = false;
      spawnSync("umount", ["-l", path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** A logger that keeps its lines (to check what was said, and how often). */
export function recordingLogger(): { lines: Array<Record<string, unknown>>; write: (line: string) => void } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) };
}

/**
 * Lowers this process's file size limit (RLIMIT_FSIZE) to `bytes` until the returned function
 * is called: a write that reaches past it comes up short and one that starts past it fails
 * with EFBIG — the kernel's own short write, for regions a full filesystem never refuses
 * (an overwrite in place, say). Node ignores the SIGXFSZ that comes with it.
 */
export function limitFileSize(bytes: number): () => void {
  const set = (soft: string) => {
    const r = spawnSync("prlimit", ["--pid", String(process.pid), `--fsize=${soft}:unlimited`], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`prlimit failed: ${(r.stderr || r.error?.message || "").trim()}`);
  };
  set(String(bytes));
  let lifted = false;
  return () => {
    if (lifted) return;
    lifted = true;
    set("unlimited");
  };
}
