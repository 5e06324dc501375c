import { test } from "node:test";
import { waitFor } from "../../cluster/wait-for.js";
import {
  SpoolWriter,
  assertLogsComplete,
  countLines,
  federationPerFile,
  relayConnections,
  waitLogs,
  written,
} from "./harness.js";

const federation = federationPerFile("bustle-fed-member-");

test("federation - a fourth tilde joins a running federation as a relay-only member and receives the retained history", async () => {
  const fed = federation();
  const writers = fed.nodes.map((n) => new SpoolWriter(n.id, n.homes));
  writers.forEach((w) => w.write(20));
  await waitLogs(fed, 60, 30_000);

  const late = await fed.addMember("late");
  fed.startRelay("late");
  await waitFor(
    async () => (await relayConnections(fed)).has("late"),
    30_000,
    "the new member's relay to connect with its own credentials",
  );
  const lateWriter = new SpoolWriter("late", late.homes);
  writers.push(lateWriter);
  lateWriter.write(20);
  writers.slice(0, 3).forEach((w) => w.write(5));

  const total = written(writers);
  const logs = [...fed.nodes.map((n) => n.log), late.log];
  await waitFor(() => logs.every((l) => countLines(l) >= total), 60_000, `${total} lines in all four logs`);
  // The member's log is byte-identical to the core nodes' logs, history included.
  assertLogsComplete(logs, writers, total);
});
