/**
 * Ambient rules compiled for matching: which rule (first match wins) a change in a home
 * directory falls under, the rendered sentence, and which dot-paths the watch library can skip
 * altogether (fewer inotify watches: nobody's ~/.cache or public_html/.git is watched).
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
   * A RegExp (no flags) over paths relative to the home for the watch library's `ignore`:
   * directories no rule can ever match (dot-paths not named by a rule). Undefined: ignore nothing.
   */
  readonly watchIgnore: RegExp | undefined;
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
    watchIgnore: planWatchIgnore(compiled.map((c) => c.glob)),
  };
}

/**
 * Dot-paths the rules never match, as one RegExp. Top-level dot entries are skipped unless a
 * rule names them literally (`.ttbp/**`); deeper dot segments are skipped unless some rule has
 * a dot segment below the top. A rule like `.*\/**` turns the top-level skipping off.
 */
function planWatchIgnore(globs: readonly Glob[]): RegExp | undefined {
  const namedTop = new Set<string>([SPOOL_NAME, OPTOUT_NAME]);
  let topWildcard = false;
  let deepDots = false;
  for (const glob of globs) {
    for (const segs of glob.alternatives) {
      const first = segs[0] ?? "";
      if (first.startsWith(".")) {
        if (/[*?[\]\\]/.test(first)) topWildcard = true;
        else namedTop.add(first);
      }
      if (segs.slice(1).some((s) => s.startsWith("."))) deepDots = true;
    }
  }
  const parts: string[] = [];
  if (!topWildcard) {
    const names = [...namedTop].map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&").slice(2)).join("|");
    parts.push(`^\\.(?!(?:${names})(?:/|$))`);
  }
  if (!deepDots) parts.push("/\\.");
  return parts.length ? new RegExp(parts.join("|")) : undefined;
}
