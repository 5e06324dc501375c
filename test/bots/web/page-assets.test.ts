import { test } from "node:test";
import assert from "node:assert/strict";
import { loadPage, renderPage } from "../../../bots/web/page-assets.js";

test("web page - the built page carries its title escaped in every place and links its script, never inlines it", () => {
  const page = loadPage(`<b>"tilde's" & $& $1 feed</b>`);
  const escaped = "&lt;b&gt;&quot;tilde&#39;s&quot; &amp; $&amp; $1 feed&lt;/b&gt;";
  assert.ok(page.html.includes(`<title>${escaped}</title>`), "the title, escaped, with $& kept literal");
  assert.ok(page.html.includes(`title="${escaped} (Atom)"`), "the Atom link's title attribute");
  assert.doesNotMatch(page.html, /\{\{|<b>/, "no placeholder left, no markup from the title");
  assert.match(page.html, /<script src="\/app\.js" defer><\/script>/);
  assert.match(page.js, /^"use strict";/, "the compiled browser script");
  assert.match(page.css, /prefers-reduced-motion/);
  assert.match(page.favicon, /^<svg /);
});

test("web page - renderPage fills each placeholder", () => {
  assert.equal(renderPage("{{title}}|{{title}}", "a<b"), "a&lt;b|a&lt;b");
});
