/**
 * A tiny program on the shared edge (cluster/program.ts), for program.test.ts: each sub-command
 * ends one way a real bin can end, and `daemon` is a long-running part driven by runDaemon.
 */
import { Command, InvalidArgumentError } from "commander";
import { BustleError } from "../../cluster/errors.js";
import { createLogger } from "../../cluster/logger.js";
import { runDaemon, runProgram } from "../../cluster/program.js";

const say = (line: string): void => void process.stdout.write(line + "\n");
const count = (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError("must be a whole number");
  return Number(v);
};

const program = new Command("edge").option("--hinted", "word usage errors with a hint");
program.command("ok").action(() => say("done"));
program.command("big").action(() => say("x".repeat(4 << 20)));
program.command("fail").action(() => {
  throw new BustleError("the spool is full");
});
program.command("bug").action(() => {
  throw new TypeError("x is not a function");
});
program
  .command("count")
  .argument("<n>", "how many", count)
  .action((n: number) => say(`counted ${n}`));
program
  .command("daemon")
  .option("--fail-start", "start() rejects")
  .option("--fail-after", "fails on its own once started")
  .option("--hang-stop", "stop() never finishes")
  .option("--bad-stop", "stop() rejects")
  .action(async (opts: { failStart?: boolean; failAfter?: boolean; hangStop?: boolean; badStop?: boolean }) => {
    let fail!: (err: Error) => void;
    let reloads = 0;
    await runDaemon(
      {
        start: async () => {
          if (opts.failStart) throw new BustleError("cannot listen on 127.0.0.1:4222: address in use");
          say("started");
          if (opts.failAfter) setImmediate(() => fail(new Error("the disk went away")));
        },
        stop: async (signal) => {
          say(`stopping on ${signal}`);
          if (opts.hangStop) await new Promise(() => {});
          if (opts.badStop) throw new Error("could not flush");
          say("stopped");
        },
        reload: async () => {
          reloads++;
          if (reloads === 2) throw new BustleError("bad config");
          say(`reloaded ${reloads}`);
        },
        failed: new Promise<Error>((r) => (fail = r)),
      },
      createLogger({ component: "edge" }),
    );
    say("after the daemon");
  });

await runProgram(
  program,
  "edge",
  process.argv.includes("--hinted")
    ? { usageLine: (text, cmd) => `edge: ${text} (see edge ${cmd.name()} --help)` }
    : {},
);
