/**
 * Loading a YAML config file against a schema: every problem at once, each as
 * `file:line key.path: message`; the result is deeply frozen.
 */
import { readFileSync } from "node:fs";
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode } from "yaml";
import { ConfigError } from "../errors.js";
import { formatPath, INVALID, type Path, type Schema } from "./schema.js";

export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Finds the line of a key path in the document: the key's line for unknown keys, else the value's. */
function lineOf(doc: Document, counter: LineCounter, path: Path, onKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined = rangeLine(node, counter);
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const isLast = i === path.length - 1;
      line =
        rangeLine(isLast && onKey ? pair.key : (pair.value ?? pair.key), counter) ??
        rangeLine(pair.key, counter) ??
        line;
      node = pair.value;
    } else if (
      node &&
      typeof node === "object" &&
      "items" in node &&
      Array.isArray((node as { items: unknown[] }).items)
    ) {
      const item = (node as { items: unknown[] }).items[Number(seg)];
      if (item === undefined) break;
      line = rangeLine(item, counter) ?? line;
      node = item;
    } else break;
  }
  return line;
}

function rangeLine(node: unknown, counter: LineCounter): number | undefined {
  const range = (node as YamlNode | undefined)?.range;
  return range ? counter.linePos(range[0]).line : undefined;
}

/** Validates YAML text; `name` is what messages call the file. Throws ConfigError. */
export function parseConfig<T>(text: string, name: string, schema: Schema<T>): T {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const problems: string[] = [];
  for (const err of doc.errors) {
    const line = err.linePos?.[0]?.line ?? counter.linePos(err.pos[0]).line;
    problems.push(`${name}${line ? `:${line}` : ""}: YAML syntax error: ${err.message.split("\n")[0]}`);
  }
  if (problems.length) throw new ConfigError(problems.join("\n"), problems);
  const value = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const located: Array<{ line: number; text: string }> = [];
  const result = schema.check(value, [], {
    report(path, message, onKey = false) {
      const line = lineOf(doc, counter, path, onKey);
      located.push({ line: line ?? 0, text: `${name}${line ? `:${line}` : ""} ${formatPath(path)}: ${message}` });
    },
  });
  if (result === INVALID || located.length) {
    const list = located.sort((a, b) => a.line - b.line).map((p) => p.text);
    throw new ConfigError(list.join("\n"), list);
  }
  return deepFreeze(result);
}

/** A config file's text; ConfigError (one line: the file and why) when it cannot be read. */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES"
          ? "permission denied"
          : code === "EISDIR"
            ? "is a directory"
            : String(err);
    throw new ConfigError(`${file}: cannot read config: ${why}`, undefined, { cause: err });
  }
}

/** Reads and validates a config file. Throws ConfigError (missing file, syntax, schema). */
export function loadConfigFile<T>(file: string, schema: Schema<T>): T {
  return parseConfig(readConfigText(file), file, schema);
}
