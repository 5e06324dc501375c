/**
 * Path globs for ambient rules, relative to a home directory: `*`, `?`, `[abc]`, `[!abc]`,
 * `{a,b}` and `**` (any number of directories). Like a shell with `dotglob` off, a wildcard
 * never matches a name starting with "." — a dot-path matches only a glob that spells the dot
 * out (`.ttbp/**`). That is the privacy rule "dot-paths are ignored unless a rule names them".
 */

/** A glob that cannot be compiled (unbalanced brackets or braces). */
export class GlobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GlobError";
  }
}

export interface Glob {
  readonly source: string;
  /** True when `relPath` ("public_html/a/b.html", no leading slash) matches. */
  matches(relPath: string): boolean;
  /** The glob's alternatives (braces expanded), split into segments: used to plan watch-level ignores. */
  readonly alternatives: readonly (readonly string[])[];
}

/** Expands `{a,b}` (nesting allowed) into every alternative. */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "{") {
      if (depth++ === 0) open = i;
    } else if (c === "}" && depth > 0 && --depth === 0) {
      const parts = splitTopLevel(pattern.slice(open + 1, i));
      const head = pattern.slice(0, open);
      const tail = pattern.slice(i + 1);
      return parts.flatMap((p) => expandBraces(head + p + tail));
    }
  }
  if (depth !== 0) throw new GlobError(`unbalanced "{" in ${JSON.stringify(pattern)}`);
  return [pattern];
}

function splitTopLevel(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "\\") i++;
    else if (c === "{") depth++;
    else if (c === "}") depth--;
    else if (c === "," && depth === 0) {
      out.push(body.slice(start, i));
      start = i + 1;
    }
  }
  out.push(body.slice(start));
  return out;
}

const GLOBSTAR = Symbol("globstar");
type Segment = RegExp | typeof GLOBSTAR;

/** One path segment's pattern → an anchored RegExp (wildcards never match a leading "."). */
function compileSegment(seg: string, whole: string): RegExp {
  let re = "";
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === "\\" && i + 1 < seg.length) re += escapeRegExp(seg[++i]!);
    else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = seg.indexOf("]", i + 2);
      if (end < 0) throw new GlobError(`unbalanced "[" in ${JSON.stringify(whole)}`);
      let body = seg.slice(i + 1, end);
      if (body.startsWith("!")) body = "^" + body.slice(1);
      re += `[${body.replace(/\\/g, "\\\\").replace(/\[/g, "\\[")}]`;
      i = end;
    } else re += escapeRegExp(c);
  }
  const literalDot = seg.startsWith(".") || seg.startsWith("\\.");
  return new RegExp(`^${literalDot ? "" : "(?!\\.)"}${re}$`);
}

const escapeRegExp = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

function matchSegments(pattern: readonly Segment[], pi: number, path: readonly string[], si: number): boolean {
  for (; pi < pattern.length; pi++, si++) {
    const p = pattern[pi]!;
    if (p === GLOBSTAR) {
      if (pi === pattern.length - 1) return path.slice(si).every((s) => !s.startsWith("."));
      for (let k = si; k <= path.length; k++) {
        if (matchSegments(pattern, pi + 1, path, k)) return true;
        if (k < path.length && path[k]!.startsWith(".")) return false;
      }
      return false;
    }
    if (si >= path.length || !p.test(path[si]!)) return false;
  }
  return si === path.length;
}

/** Compiles a glob; throws GlobError on a malformed one. */
export function compileGlob(source: string): Glob {
  const alternatives = expandBraces(source).map((alt) =>
    alt.split("/").filter((s, _i, all) => s !== "" || all.length === 1),
  );
  const compiled = alternatives.map((segs) =>
    segs.map((s): Segment => (s === "**" ? GLOBSTAR : compileSegment(s, source))),
  );
  return {
    source,
    alternatives,
    matches(relPath: string): boolean {
      const path = relPath.split("/");
      return compiled.some((segs) => matchSegments(segs, 0, path, 0));
    },
  };
}
