/**
 * A bot type for tests only: it records what happens to it in a file, reports a state when
 * told to, and crashes or refuses to start on demand. Registered only by test/support/bot-registry.ts,
 * which tests hand to the control server; never by bots/registry.ts.
 */
import { appendFileSync } from "node:fs";
import { bool, duration, object, optional, string, type Infer } from "../../cluster/config/schema.js";
import { defineBotType, type Bot, type BotContext } from "../../bots/bot.js";

export const fakeSchema = object({
  /** File the bot appends `start`, `got <text>`, `stop` lines to. */
  record: string({ min: 1 }),
  /** Dies with an error this long after starting. */
  crash_after: optional(duration()),
  /** start() rejects. */
  fail_start: optional(bool(), false),
  /** Reported through ctx.report right after starting (e.g. "reconnecting"). */
  report: optional(string()),
});
type FakeConfig = Infer<typeof fakeSchema>;

class FakeBot implements Bot {
  private settle!: (e: Error | undefined) => void;
  private readonly done = new Promise<Error | undefined>((r) => (this.settle = r));
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: BotContext<FakeConfig>) {}

  private note(line: string): void {
    appendFileSync(this.ctx.config.record, `${line} ${process.pid}\n`);
  }

  async start(): Promise<void> {
    this.note("start");
    if (this.ctx.config.fail_start) throw new Error("fake bot told to fail at start");
    if (this.ctx.config.report) this.ctx.report(this.ctx.config.report as never, "told to by its config");
    if (this.ctx.config.crash_after !== undefined) {
      this.timer = setTimeout(() => this.settle(new Error("fake bot crashed on demand")), this.ctx.config.crash_after);
    }
  }

  deliver(event: Parameters<Bot["deliver"]>[0]): void {
    this.note(`got ${event.text}`);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.note("stop");
    this.settle(undefined);
  }

  closed(): Promise<Error | undefined> {
    return this.done;
  }
}

export const fakeBot = defineBotType({ type: "fake", schema: fakeSchema, create: (ctx) => new FakeBot(ctx) });
