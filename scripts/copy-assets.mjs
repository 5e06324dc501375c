// Copies the files that are not TypeScript (the portal page's HTML, CSS, icon) into dist/, beside
// the modules that read them. Part of `npm run build`, after tsc.
import { cpSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

const DIRS = ["bots/web/page"];
const ASSET = /\.(html|css|svg)$/;

for (const dir of DIRS) {
  mkdirSync(join("dist", dir), { recursive: true });
  for (const name of readdirSync(dir)) {
    if (ASSET.test(name)) cpSync(join(dir, name), join("dist", dir, name));
  }
}
