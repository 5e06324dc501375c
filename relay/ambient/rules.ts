/**
 * Ambient rules compiled for matching: which rule (first match wins) a change in a home
 * directory falls under, the rendered sentence, and which dot-paths the watch library can skip
 * altogether (fewer inotify watches: nobody's ~/.cache or ~/.local is watched).
 */
import type { AmbientRule } from "./config.js";
import { compileGlob, type Glob } from "./glob.js";

/** Files in a home that are bustle's own and never activity. */
export const SPOOL_NAME = ".bustle.spool";
export const OPTOUT_NAME = ".bustle.optout";

export type ChangeType = "create" | "update";

export interface CompiledRules {
  /**
   * The first rule that matches a change at `relPath` (relative to the home, no leading "/").
   * `isNewFile` is called only when an `on: create` rule is reached by a creation, so the
   * caller's lstat happens rarely.
   */
  match(relPath: string, type: ChangeType, isNewFile: () => boolean): AmbientRule | undefined;
  /**
   * What the watch library need not watch, as a regular expression source to match a whole path
   * relative to the home (ECMAScript syntax, which the library's std::regex shares; unanchored,
   * as std::regex_match matches the whole path): top-level dot entries no rule names (`.cache`;
   * `~/.bustle.spool` is always kept), and dot entries one level down (`public_html/.git`)
   * unless some rule spells a dot below the top. Undefined when nothing can be skipped.
   */
  unwatched: string | undefined;
}

/** The rule's sentence for a user: `{user}` replaced (the envelope sanitises the rest). */
export function renderText(rule: AmbientRule, user: string): string {
  return rule.text.replaceAll("{user}", user);
}

export function compileRules(rules: readonly AmbientRule[]): CompiledRules {
  // A rule without `match` is about any path that is not a dot-path: exactly what "**" means here.
  const compiled = rules.map((rule) => ({ rule, glob: compileGlob(rule.match ?? "**") }));
  return {
    match(relPath, type, isNewFile) {
      if (relPath === SPOOL_NAME || relPath === OPTOUT_NAME) return undefined;
      let newFile: boolean | undefined;
      for (const { rule, glob } of compiled) {
        if (rule.on === "create") {
          if (type !== "create") continue;
          if (!glob.matches(relPath)) continue;
          newFile ??= isNewFile();
          if (newFile) return rule;
          continue;
        }
        if (glob.matches(relPath)) return rule;
      }
      return undefined;
    },
    unwatched: planUnwatched(compiled.map((c) => c.glob)),
  };
}

/**
 * What a subscription on the whole homes root need not watch, relative to the root: the root's
 * own dot entries, the entries `leftOut` (not homes, excluded, watched alone), and in each home
 * what the rules need not see. An entry left out is neither crawled nor watched, so nothing
 * below it ever reaches the library's test: its name alone is enough.
 *
 * The library runs this with std::regex_match on every path it crawls, files included, and
 * libstdc++ pays per call in proportion to the expression's states: past ~64 of them its
 * bookkeeping no longer fits glibc's per-thread malloc cache, ~500 instructions more per path
 * (docs/BENCHMARKS.md, issue 14, ambient). The default rules with a `lost+found` stay under it.
 */
export function unwatchedInRoot(rules: CompiledRules, leftOut: readonly string[]): string {
  const parts = ["\\.[^/]*", ...leftOut.map(regexLiteral)];
  if (rules.unwatched) parts.push(`[^/]+/(?:${rules.unwatched})`);
  return parts.join("|");
}

/** `s` as a literal in a regular expression. */
export function regexLiteral(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function planUnwatched(globs: readonly Glob[]): string | undefined {
  const parts: string[] = [];
  const top = planTopLevelSkip(globs);
  if (top) parts.push(`\\.${keepAfterDot(top)}[^/]*`);
  if (planSecondLevelSkip(globs)) parts.push("[^/]+/\\.[^/]*");
  return parts.length ? parts.join("|") : undefined;
}

/** A lookahead after the dot that keeps `names` (each starting with "."): only dot entries reach it. */
function keepAfterDot(names: ReadonlySet<string>): string {
  return names.size ? `(?!${[...names].map((n) => `${regexLiteral(n.slice(1))}$`).join("|")})` : "";
}

/**
 * Which top-level dot entries rules can match, so the watch library may skip every other one. A
 * rule whose first segment is a dot wildcard (`.*\/**`) keeps them all (undefined); a literal one
 * (`.ttbp/**`) keeps that name.
 */
function planTopLevelSkip(globs: readonly Glob[]): Set<string> | undefined {
  // The spool's changes must reach the spool reader; the opt-out file needs no watching (it is
  // checked with an lstat when a change would become an event), so it costs no states here.
  const named = new Set<string>([SPOOL_NAME]);
  let wildcard = false;
  for (const glob of globs) {
    for (const segs of glob.alternatives) {
      const first = segs[0] ?? "";
      if (!first.startsWith(".")) continue;
      if (/[*?[\]\\]/.test(first)) wildcard = true;
      else named.add(first);
    }
  }
  return wildcard ? undefined : named; // the dot names to keep watched, or none skipped
}

/**
 * Dot-entries one level down (`public_html/.git`, hundreds of directories in a repository) can
 * be skipped unless some rule spells a dot below the top. Deeper ones are still watched, and the
 * rules drop their changes.
 */
function planSecondLevelSkip(globs: readonly Glob[]): boolean {
  return !globs.some((g) => g.alternatives.some((segs) => segs.slice(1).some((s) => s.startsWith("."))));
}
