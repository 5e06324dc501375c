/**
 * The live page's files (bots/web/page/: index.html, style.css, favicon.svg, and app.js compiled
 * from app.ts for the browser), read once from beside this module in the build.
 *
 * The HTML is self-contained (no external resource) and has no inline script or style (the
 * strict CSP forbids them). The only server-side text in it is the configured title, put in
 * for each `{{title}}` HTML-escaped; event texts are added by the script with textContent.
 */
import { readFileSync } from "node:fs";

export interface PageAssets {
  html: string;
  js: string;
  css: string;
  favicon: string;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** The page's HTML with the title in place (a function replacement: `$&` in a title stays literal). */
export function renderPage(template: string, title: string): string {
  const t = escapeHtml(title);
  return template.replaceAll("{{title}}", () => t);
}

const DIR = new URL("./page/", import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, DIR), "utf8");

/** Reads the page's files; throws (naming the file) when the build lacks one. */
export function loadPage(title: string): PageAssets {
  return {
    html: renderPage(read("index.html"), title),
    js: read("app.js"),
    css: read("style.css"),
    favicon: read("favicon.svg"),
  };
}
