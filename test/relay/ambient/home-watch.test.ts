// The ignore expression as the watch library itself runs it (std::regex_match in its native
// crawl and inotify thread, not JavaScript): which directories get watched and which changes it
// reports, on a homes root with the default rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../../../cluster/wait-for.js";
import { tempDir } from "../../../cluster/temp.js";
import { DEFAULT_AMBIENT_RULES } from "../../../relay/ambient/config.js";
import { ignoreOption, watchTree, type ChangeEvent } from "../../../relay/ambient/home-watch.js";
import { ownWatchCount } from "../../../relay/ambient/inotify.js";
import { compileRules, unwatchedInRoot } from "../../../relay/ambient/rules.js";

test("ambient home-watch - the expression reaches the library's matcher as it is, not wrapped for a substring search", () => {
  // The library's `ignore` turns a RegExp into `^[\s\S]*(?:…)[\s\S]*$` (twice the work per crawled path).
  assert.deepEqual(ignoreOption("\\.[^/]*"), { ignoreGlobs: ["\\.[^/]*"] });
  assert.deepEqual(ignoreOption(undefined), {});
});

test("ambient home-watch - the library skips what the rules need not see and reports the rest", async () => {
  const tmp = tempDir("bustle-home-watch-");
  try {
    const root = join(tmp.path, "home");
    for (const d of [
      ".hidden", // the root's own dot entry
      "lost+found", // left out: not a user
      "alice/.cache/thumbs",
      "alice/.bustle.spoolx", // only the spool's exact name is kept
      "alice/.ttbp/.drafts",
      "alice/public_html/.git",
      "alice/projects/app/.git", // deeper dot-directories stay watched; the rules drop their changes
    ])
      mkdirSync(join(root, d), { recursive: true });
    const seen: string[] = [];
    const watch = await watchTree({
      dir: root,
      unwatched: unwatchedInRoot(compileRules(DEFAULT_AMBIENT_RULES), ["lost+found"]),
      onChanges: (events: ChangeEvent[]) => void seen.push(...events.map((e) => e.path.slice(root.length + 1))),
      onFailure: (err) => assert.fail(err),
    });
    try {
      // root, alice, .ttbp, public_html, projects, projects/app, projects/app/.git
      assert.equal(ownWatchCount(), 7, "no watch in the skipped directories");
      const skipped = [
        ".hidden/x",
        "lost+found/x",
        "alice/.cache/thumbs/x",
        "alice/.bustle.spoolx/x",
        "alice/.ttbp/.drafts/x",
        "alice/public_html/.git/HEAD",
        "alice/.profile", // a dot file no rule names: not reported
        "alice/.bustle.optout", // checked with an lstat when a change would become an event
      ];
      for (const p of skipped) writeFileSync(join(root, p), "x");
      const reported = [
        "alice/.bustle.spool",
        "alice/.ttbp/entry",
        "alice/projects/app/.git/index",
        "alice/public_html/index.html",
      ];
      for (const p of reported) appendFileSync(join(root, p), "x");
      // inotify keeps the order of one instance's events: once the last is reported, the skipped ones were handled.
      await waitFor(() => reported.every((p) => seen.includes(p)), 10_000, "the reported changes");
      assert.deepEqual(
        seen.filter((p) => skipped.includes(p)),
        [],
      );
      assert.ok(!seen.some((p) => p.startsWith("alice/.cache") || p.startsWith("lost+found/")));
    } finally {
      await watch.close();
    }
  } finally {
    tmp.remove();
  }
});
