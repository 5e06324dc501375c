/** The real registry plus the test-only `fake` type; tests pass this module to the control server. */
import { registry as real, type Registry } from "../../bots/registry.js";
import { fakeBot } from "./fake-bot.js";

export const registry: Registry = { ...real, fake: fakeBot };
