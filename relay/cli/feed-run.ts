/** The feed itself: read the tail backwards, print it, then follow the log until interrupted. */
import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { isatty } from "node:tty";
import type { FeedOptions } from "./feed.js";
import { makeFeedFilter } from "./filter.js";
import { IndexedFilter } from "./indexed-filter.js";
import { LogFollower, type FollowNotice } from "./follow.js";
import { liveRenderer } from "./live.js";
import { resolveLogPath } from "./node-config.js";
import { plainRenderer, type Renderer } from "./render.js";
import { loadMuteList } from "./mute-list.js";
import { CliError, fsError } from "./run.js";
import { readTail } from "./tail.js";

const missing = (path: string) => `no bustle.log at ${path} yet — is bustled running?`;

function noticeText(kind: FollowNotice, path: string, detail?: string): string {
  switch (kind) {
    case "missing":
      return `${missing(path)} (waiting for it)`;
    case "removed":
      return `${path} was removed (rotated?); waiting for the new one`;
    case "appeared":
      return `${path} is here now; following it`;
    case "truncated":
      return `${path} was truncated; reading it from the start`;
    case "replaced":
      return `${path} was replaced (rotated?); following the new file`;
    case "unreadable":
      return `cannot read ${path}: ${detail ?? "unknown error"} (still trying)`;
  }
}

/** The user's mute list; none when there is no home to keep one in (a daemon's environment). */
function mutedNames(): string[] {
  try {
    return loadMuteList();
  } catch (err) {
    if (err instanceof CliError && !process.env.HOME) return [];
    throw err;
  }
}

/** Opens the log for the tail; undefined when it does not exist yet. */
function openLog(path: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fsError("read", path, err);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new CliError(`refusing to read ${path}: it is not a regular file`);
  }
  return fd;
}

function makeFollower(
  path: string,
  renderer: Renderer,
  indexed: IndexedFilter | undefined,
  fd: number | undefined,
  offset: number,
): LogFollower {
  return new LogFollower(
    path,
    {
      line: (line, at) => {
        if (!indexed || indexed.live(line, at)) renderer.line(line);
      },
      notice: (kind, detail) => {
        if (kind !== "unreadable" && kind !== "missing") indexed?.reset();
        renderer.notice(noticeText(kind, path, detail));
      },
    },
    { fd, offset },
  );
}

const HANGUP_CHECK_MS = 1_000;

/** Resolves when the feed ends: at once with --no-follow, else on SIGINT/SIGTERM/SIGHUP or a closed pipe. */
export async function runFeed(opts: FeedOptions): Promise<void> {
  const path = await resolveLogPath(opts);
  const filter = makeFeedFilter({ ...opts, mute: opts.all ? undefined : mutedNames() });
  const indexed = filter ? new IndexedFilter(path, filter) : undefined;
  const tty = process.stdout.isTTY === true;
  const noColor = (process.env.NO_COLOR ?? "") !== "";
  const renderer: Renderer =
    tty && !opts.plain && !noColor
      ? liveRenderer(process.stdout, process.stderr, { follow: opts.follow })
      : plainRenderer(process.stdout, process.stderr, tty);

  const fd = openLog(path);
  if (fd === undefined && !opts.follow) throw new CliError(missing(path));
  let offset = 0;
  let follower: LogFollower | undefined;
  if (fd !== undefined) {
    try {
      const tail = readTail(fd, fstatSync(fd).size, opts.lines, indexed?.backlog());
      offset = tail.end;
      // Made before the tail is shown: it remembers the shown lines as they are now, not as
      // they may be once someone who saw them has cut the log back.
      if (opts.follow) follower = makeFollower(path, renderer, indexed, fd, offset);
      renderer.backlog(tail.lines);
    } catch (err) {
      closeSync(fd);
      indexed?.close();
      renderer.close();
      throw err instanceof CliError ? err : fsError("read", path, err);
    }
  }
  if (!opts.follow) {
    closeSync(fd!);
    indexed?.close();
    renderer.close();
    return;
  }

  await new Promise<void>((resolve) => {
    const following = follower ?? makeFollower(path, renderer, indexed, fd, offset);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(hangup);
      following.stop();
      renderer.close();
      for (const s of signals) process.off(s, end);
      resolve();
    };
    const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
    for (const s of signals) process.on(s, end);
    // The reader went away: `bustle | head` closed the pipe (EPIPE), or the terminal of a closed
    // SSH session is hung up (EIO). End quietly: there is nobody left to tell.
    const gone = (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE" || err.code === "EIO") end();
    };
    process.stdout.on("error", gone);
    process.stderr.on("error", gone);
    // A hung-up terminal without a SIGHUP for us (we are not in its session, or something ate
    // the signal) and nothing to write for hours: a hung-up tty stops being a tty, so look.
    const hangup = tty
      ? setInterval(() => {
          if (!isatty(1)) end();
        }, HANGUP_CHECK_MS)
      : undefined;
    process.on("exit", () => renderer.close());
    following.start();
  });
}
