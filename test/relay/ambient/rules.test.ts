import { test } from "node:test";
import assert from "node:assert/strict";
import { compileGlob, GlobError } from "../../../relay/ambient/glob.js";
import { compileRules, renderText } from "../../../relay/ambient/rules.js";
import { DEFAULT_AMBIENT_RULES, ambientSectionSchema } from "../../../relay/ambient/config.js";
import { parseConfig } from "../../../cluster/config/load.js";
import { object, optional } from "../../../cluster/config/schema.js";

test("ambient glob - wildcards never match dot-paths unless the glob spells the dot", () => {
  const html = compileGlob("public_html/**");
  assert.ok(html.matches("public_html/index.html"));
  assert.ok(html.matches("public_html/blog/2026/post.html"));
  assert.ok(html.matches("public_html"));
  assert.ok(!html.matches("public_html/.git/config"));
  assert.ok(!html.matches("public_htmlx/a"));
  const any = compileGlob("**");
  assert.ok(any.matches("notes.txt"));
  assert.ok(any.matches("src/a/b.c"));
  assert.ok(!any.matches(".cache/x"));
  assert.ok(!any.matches("src/.hidden"));
  const ttbp = compileGlob(".ttbp/**");
  assert.ok(ttbp.matches(".ttbp/entries/20261122.txt"));
  assert.ok(!ttbp.matches(".ttbpx/a"));
});

test("ambient glob - *, ?, classes and braces", () => {
  assert.ok(compileGlob("*.txt").matches("a.txt"));
  assert.ok(!compileGlob("*.txt").matches("d/a.txt"));
  assert.ok(!compileGlob("*.txt").matches(".a.txt"));
  assert.ok(compileGlob("**/*.txt").matches("d/e/a.txt"));
  assert.ok(compileGlob("**/*.txt").matches("a.txt"));
  assert.ok(compileGlob("file?.[ch]").matches("file1.c"));
  assert.ok(!compileGlob("file?.[!ch]").matches("file1.c"));
  const both = compileGlob("{public_html,public_gopher}/**");
  assert.ok(both.matches("public_gopher/phlog/x"));
  assert.ok(both.matches("public_html/x"));
  assert.ok(!both.matches("public_gemini/x"));
  assert.throws(() => compileGlob("a/[bc"), GlobError);
  assert.throws(() => compileGlob("{a,b"), GlobError);
});

const isFile = () => true;
const notFile = () => false;

test("ambient rules - the default table, first match wins", () => {
  const rules = compileRules(DEFAULT_AMBIENT_RULES);
  assert.equal(rules.match("public_html/index.html", "update", isFile)?.kind, "publish");
  assert.equal(rules.match("public_html/new.html", "create", isFile)?.kind, "publish");
  assert.equal(rules.match("notes.txt", "create", isFile)?.kind, "create");
  assert.equal(rules.match("projects", "create", notFile)?.kind, "activity", "a new directory is not a new file");
  assert.equal(rules.match("notes.txt", "update", isFile)?.kind, "activity");
  assert.equal(rules.match(".ttbp/entries/x.txt", "create", isFile)?.kind, "ttbp");
  assert.equal(rules.match(".ttbp/entries/x.txt", "create", isFile)?.anon, true);
  assert.equal(rules.match(".cache/x", "update", isFile), undefined);
  assert.equal(rules.match("src/.git/index", "update", isFile), undefined);
  assert.equal(rules.match(".bustle.spool", "update", isFile), undefined);
  assert.equal(rules.match(".bustle.optout", "create", isFile), undefined);
});

test("ambient rules - text renders the user, and the watch skips dot-paths no rule names", () => {
  const rules = compileRules(DEFAULT_AMBIENT_RULES);
  assert.equal(renderText(DEFAULT_AMBIENT_RULES[0]!, "alice"), "~alice just added to their public_html");
  // The pattern is handed to the watch library (std::regex, ECMAScript syntax, whole-path match).
  const skips = (r: typeof rules, path: string) =>
    r.unwatched !== undefined && new RegExp(`^(?:${r.unwatched})$`).test(path);
  assert.ok(skips(rules, ".cache"));
  assert.ok(skips(rules, ".local"));
  assert.ok(!skips(rules, ".ttbp"));
  assert.ok(!skips(rules, ".ttbp/entries"));
  assert.ok(!skips(rules, ".bustle.spool"));
  assert.ok(skips(rules, ".bustle.optout"), "the opt-out file is checked with an lstat, never watched");
  assert.ok(skips(rules, ".bustle.spoolx"), "only the exact names are kept");
  assert.ok(!skips(rules, "public_html"));
  assert.ok(!skips(rules, "public_html/index.html"));
  const wild = compileRules([{ match: ".*/**", on: "change", kind: "dots", text: "x", anon: false }]);
  assert.ok(!skips(wild, ".cache"), "a wildcard dot rule keeps top-level dot dirs watched");
  assert.ok(skips(rules, "public_html/.git"));
  assert.ok(skips(rules, ".ttbp/.drafts"));
  assert.ok(!skips(rules, "public_html/blog"));
  assert.ok(!skips(rules, "projects/app/.git"), "deeper dot-directories stay watched (the rules drop their changes)");
  const deep = compileRules([
    { match: "public_html/.well-known/**", on: "change", kind: "wk", text: "x", anon: false },
  ]);
  assert.ok(
    !skips(deep, "public_html/.well-known"),
    "a rule with a dot below the top keeps second-level dot dirs watched",
  );
  assert.ok(skips(deep, ".cache"));
});

test("ambient config - defaults, max_per_minute, and bad globs reported with their path", () => {
  const schema = object({ ambient: optional(ambientSectionSchema) });
  const c = parseConfig("ambient: {}\n", "node.yaml", schema);
  assert.equal(c.ambient?.window, 600_000);
  assert.equal(c.ambient?.max_per_minute, 30);
  assert.equal(c.ambient?.rules.length, 4);
  const bad =
    'ambient:\n  window: 500ms\n  rules:\n    - {match: "a/[b", kind: x, text: t}\n    - {match: /etc/**, kind: y, text: t}\n';
  assert.throws(
    () => parseConfig(bad, "node.yaml", schema),
    (err: Error) => {
      assert.match(err.message, /ambient\.window/);
      assert.match(err.message, /node\.yaml:4 ambient\.rules\[0\]\.match: is not a valid glob/);
      assert.match(err.message, /ambient\.rules\[1\]\.match: must be relative/);
      return true;
    },
  );
});
