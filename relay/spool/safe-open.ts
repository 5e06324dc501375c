/**
 * Opening a user's spool without trusting anything in their home directory:
 * - the home must be a real directory (not a symlink);
 * - the spool is looked at with lstat first, so a FIFO, a device, a socket or a directory is
 *   refused without ever being opened (opening some devices has side effects);
 * - it is then opened with O_NOFOLLOW | O_NONBLOCK (a symlink swapped in fails, a FIFO swapped
 *   in cannot block us) and fstat'ed: it must be the same regular file we looked at, owned by
 *   the home directory's owner, and not writable by everyone (anyone could write in the user's
 *   name).
 * A spool the reader keeps open between checks is re-checked, not re-opened: the held file with
 * one fstat (`stillAcceptable`) when only its content can have changed, and the path with
 * `recheckSpool` (two lstats: the path must still name that very file, the home still be the
 * same owner's directory) when the directory entry may have changed (docs/spool.md says when).
 * Anything else and the caller closes it and opens afresh, so a swapped-in symlink, FIFO or
 * foreign file gets the same refusal as on a first open.
 */
import { constants, type Stats } from "node:fs";
import { lstat, open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";

export const SPOOL_NAME = ".bustle.spool";

/** Why a spool (or its home) is refused; stable strings, used in the audit log. */
export type RefusalReason =
  | "bad-user-name"
  | "home-symlink"
  | "home-not-directory"
  | "spool-symlink"
  | "spool-not-regular-file"
  | "spool-owner-mismatch"
  | "spool-world-writable"
  | "spool-unreadable";

export type OpenResult =
  | { kind: "open"; fh: FileHandle; stat: Stats; homeUid: number }
  | { kind: "absent" }
  | { kind: "refused"; reason: RefusalReason; detail: string };

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

function fileType(s: Stats): string {
  if (s.isFIFO()) return "fifo";
  if (s.isDirectory()) return "directory";
  if (s.isSymbolicLink()) return "symlink";
  if (s.isSocket()) return "socket";
  if (s.isCharacterDevice()) return "character device";
  if (s.isBlockDevice()) return "block device";
  return "regular file";
}

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** lstat without following the last component; any error but ENOENT counts as "something is there". */
async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    return code(err) !== "ENOENT" && code(err) !== "ENOTDIR";
  }
}

/** Opens `<home>/.bustle.spool` for reading if it is safe to; the caller closes `fh`. Never throws. */
export async function openSpool(home: string): Promise<OpenResult> {
  let homeStat: Stats;
  try {
    homeStat = await lstat(home);
  } catch (err) {
    return code(err) === "ENOENT"
      ? { kind: "absent" }
      : { kind: "refused", reason: "spool-unreadable", detail: `cannot stat home: ${code(err)}` };
  }
  const path = join(home, SPOOL_NAME);
  if (!homeStat.isDirectory()) {
    // Only worth a refusal when there is a spool to refuse: most such entries are not users.
    if (!(await exists(path))) return { kind: "absent" };
    return homeStat.isSymbolicLink()
      ? { kind: "refused", reason: "home-symlink", detail: "home directory is a symlink" }
      : { kind: "refused", reason: "home-not-directory", detail: `home is a ${fileType(homeStat)}` };
  }

  let pre: Stats;
  try {
    pre = await lstat(path);
  } catch (err) {
    return code(err) === "ENOENT"
      ? { kind: "absent" }
      : { kind: "refused", reason: "spool-unreadable", detail: `cannot stat spool: ${code(err)}` };
  }
  const refuseType = (s: Stats): OpenResult =>
    s.isSymbolicLink()
      ? { kind: "refused", reason: "spool-symlink", detail: "spool is a symlink" }
      : { kind: "refused", reason: "spool-not-regular-file", detail: `spool is a ${fileType(s)}` };
  if (!pre.isFile()) return refuseType(pre);

  let fh: FileHandle;
  try {
    fh = await open(path, OPEN_FLAGS);
  } catch (err) {
    if (code(err) === "ENOENT") return { kind: "absent" };
    if (code(err) === "ELOOP") return { kind: "refused", reason: "spool-symlink", detail: "spool is a symlink" };
    return { kind: "refused", reason: "spool-unreadable", detail: `cannot open spool: ${code(err)}` };
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) {
      await fh.close();
      return refuseType(stat);
    }
    if (stat.uid !== homeStat.uid) {
      await fh.close();
      return {
        kind: "refused",
        reason: "spool-owner-mismatch",
        detail: `spool is owned by uid ${stat.uid}, home by uid ${homeStat.uid}`,
      };
    }
    if (stat.mode & 0o002) {
      // Anyone could write lines in this user's name.
      await fh.close();
      return {
        kind: "refused",
        reason: "spool-world-writable",
        detail: "spool is writable by everyone (chmod o-w ~/.bustle.spool)",
      };
    }
    return { kind: "open", fh, stat, homeUid: homeStat.uid };
  } catch (err) {
    await fh.close().catch(() => {});
    return { kind: "refused", reason: "spool-unreadable", detail: `cannot stat spool: ${code(err)}` };
  }
}

export type RecheckResult = { kind: "same"; stat: Stats } | { kind: "changed" };

/** What the reader knows of a spool it holds open: the file's device and inode, its home's uid. */
export interface HeldIdentity {
  dev: number;
  ino: number;
  homeUid: number;
}

/**
 * Whether `stat` (of the held file, or of the path) still describes an acceptable spool: a
 * regular file, that very device and inode, still linked somewhere, owned by the home's owner
 * and not writable by everyone.
 */
export function stillAcceptable(stat: Stats, held: HeldIdentity): boolean {
  if (!stat.isFile() || stat.dev !== held.dev || stat.ino !== held.ino || stat.nlink === 0) return false;
  return stat.uid === held.homeUid && !(stat.mode & 0o002);
}

/**
 * Whether the spool open as `held` is still what `<home>/.bustle.spool` names, and still
 * acceptable: the home a real directory owned by the same uid, the path a regular file (not a
 * symlink) with that device and inode, owned by the home's owner and not world-writable. `same`
 * gives the fresh stats (the size to read up to). Anything else, errors included, is `changed`:
 * close the handle and `openSpool` again, which says why. Never throws.
 */
export async function recheckSpool(home: string, held: HeldIdentity): Promise<RecheckResult> {
  try {
    // Both at once (one thread-pool round trip of latency, not two); judged together below.
    const [homeStat, stat] = await Promise.all([lstat(home), lstat(join(home, SPOOL_NAME))]);
    if (!homeStat.isDirectory() || homeStat.uid !== held.homeUid) return { kind: "changed" };
    return stillAcceptable(stat, held) ? { kind: "same", stat } : { kind: "changed" };
  } catch {
    return { kind: "changed" };
  }
}
