/** `bustle-cluster stream`: show the BUSTLE stream's limits, or change them with the admin credential. */
import { Command, InvalidArgumentError } from "commander";
import { parseDuration } from "../../cluster/duration.js";

const duration = (v: string) => {
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('a duration like "30d", "6h" or "10m"');
  return ms;
};
const SIZE_UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const size = (v: string) => {
  const m = /^(\d+)\s*([KMGT]?)(?:i?B)?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError('a size in bytes, or like "1GiB", "500M"');
  return Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]!;
};
const replicas = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 5) throw new InvalidArgumentError("must be 1–5");
  return n;
};

interface StreamOpts {
  admin: string;
  maxAge?: number;
  maxBytes?: number;
  duplicateWindow?: number;
  replicas?: number;
  json?: boolean;
}

export function streamCommand(): Command {
  return new Command("stream")
    .description(
      "show the BUSTLE stream's limits; with a limit flag, change it (only the federation's admin credential may)",
    )
    .requiredOption("--admin <file>", "the admin.yaml bustle-cluster init wrote (DIR/admin/admin.yaml)")
    .option("--max-age <duration>", "keep events this long (e.g. 30d)", duration)
    .option("--max-bytes <size>", "keep at most this much (e.g. 1GiB)", size)
    .option(
      "--duplicate-window <duration>",
      "recognise a re-sent event this long (e.g. 6h; at most the max age)",
      duration,
    )
    .option("--replicas <n>", "copies of every event (1–5)", replicas)
    .option("--json", "print the limits as JSON")
    .action(async (opts: StreamOpts) => {
      const { connectAdmin } = await import("../../cluster/admin-file.js");
      const { applyStreamLimits } = await import("../../cluster/stream.js");
      const { jetstreamManager } = await import("@nats-io/jetstream");
      const { STREAM_NAME } = await import("../../cluster/names.js");
      const { formatDuration } = await import("../../cluster/duration.js");
      const nc = await connectAdmin(opts.admin, "bustle-cluster stream");
      try {
        const changing = [opts.maxAge, opts.maxBytes, opts.duplicateWindow, opts.replicas].some((v) => v !== undefined);
        const cfg = changing
          ? await applyStreamLimits(nc, {
              maxAgeMs: opts.maxAge,
              maxBytes: opts.maxBytes,
              duplicateWindowMs: opts.duplicateWindow,
              replicas: opts.replicas,
            })
          : (await (await jetstreamManager(nc, { timeout: 10_000 })).streams.info(STREAM_NAME)).config;
        const limits = {
          maxAgeMs: cfg.max_age / 1e6,
          maxBytes: cfg.max_bytes,
          duplicateWindowMs: cfg.duplicate_window / 1e6,
          replicas: cfg.num_replicas,
        };
        process.stdout.write(
          opts.json
            ? JSON.stringify(limits) + "\n"
            : `stream ${STREAM_NAME}${changing ? " updated" : ""}: max age ${formatDuration(limits.maxAgeMs)}, max bytes ${limits.maxBytes}, duplicate window ${formatDuration(limits.duplicateWindowMs)}, R${limits.replicas}\n`,
        );
      } finally {
        // Nothing is in flight once the answer is here: close without the drain's wait.
        await nc.close().catch(() => {});
      }
    });
}
